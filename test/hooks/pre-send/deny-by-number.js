// A pre-send script: refuses numbers ending in 0666, throws for 0777, loops for 0888.
exports.onExecutePreSend = async (event, api) => {
  const n = event.phone.number;
  if (n.endsWith("0666")) api.access.deny(`script refused ${event.phone.country} ${event.request.user_agent}`);
  if (n.endsWith("0777")) throw new Error("risk service down");
  if (n.endsWith("0888")) while (true) {}
};
