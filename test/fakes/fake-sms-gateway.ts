import { type FakeServer, startFakeServer } from "./fake-server.js";

export interface GatewayRecord {
  recipient: string;
  body: string;
  sender?: string;
  req?: { ip?: string; "user-agent"?: string };
  authorization?: string;
}

/** A customer's SMS gateway as Auth0's legacy `sms_gateway` provider calls it: POST JSON, 200 = sent. */
export async function startFakeSmsGateway() {
  const accepted: GatewayRecord[] = [];
  const server = await startFakeServer((req) => {
    const f = req.fields as Record<string, unknown>;
    accepted.push({ ...(f as unknown as GatewayRecord), authorization: req.headers.authorization });
    return { status: 200, body: { ok: true } };
  });
  return Object.assign(server, { accepted }) as FakeServer & { accepted: GatewayRecord[] };
}
