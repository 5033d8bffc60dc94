// A pre-user-registration script that misbehaves for some numbers (by their last digits) and behaves
// for the others. Used to show that a bad script fails safely while other logins keep being served.
exports.onExecutePreUserRegistration = async (event, api) => {
  const p = event.user.phone_number;
  if (p.endsWith("9001")) {
    while (true) {}
  }
  if (p.endsWith("9002")) {
    await new Promise(() => {});
  }
  if (p.endsWith("9003")) {
    const hog = [];
    for (;;) hog.push(new Array(1024 * 1024).fill(1.5));
  }
  if (p.endsWith("9004")) {
    this.constructor.constructor("return process")().exit(1);
  }
  if (p.endsWith("9005")) {
    console.log(`leak ${event.secrets.TOKEN}`);
    throw new Error(`boom ${event.secrets.TOKEN}`);
  }
  if (p.endsWith("9006")) {
    await Promise.resolve();
    while (true) {}
  }
  if (p.endsWith("9007")) {
    await fetch("http://127.0.0.1:9/not-allowed");
  }
  api.user.setUserMetadata("checked", true);
};
