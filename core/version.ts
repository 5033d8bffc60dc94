/** This textlock's version; plugins declare the range they support against it (a test pins it to package.json). */
export const TEXTLOCK_VERSION = "0.1.0";
