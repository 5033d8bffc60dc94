// A pre-send script: refuses numbers ending in 0666; misbehaves for 0777 (throws), 0888 (loops),
// 0999 (memory bomb) and 0555 (tries to reach the host process).
exports.onExecutePreSend = async (event, api) => {
  const n = event.phone.number;
  if (n.endsWith("0666")) api.access.deny(`script refused ${event.phone.country} ${event.request.user_agent}`);
  if (n.endsWith("0777")) throw new Error("risk service down");
  if (n.endsWith("0888")) while (true) {}
  if (n.endsWith("0999")) {
    const hog = [];
    for (;;) hog.push(new Array(1024 * 1024).fill(1.5));
  }
  if (n.endsWith("0555")) this.constructor.constructor("return process")().exit(1);
};
