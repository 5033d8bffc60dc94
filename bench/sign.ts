// Signatures per second for one algorithm, in its own process: prints one JSON line.
import { generateKeyPair, SignJWT } from "jose";

const alg = (process.argv[2] ?? "RS256") as "RS256" | "ES256" | "EdDSA";
const seconds = Number(process.argv[3] ?? 2);
const { privateKey } = await generateKeyPair(alg, alg === "EdDSA" ? { crv: "Ed25519" } : {});
const claims = {
  sub: "sms|0123456789abcdef01234567",
  aud: "textlock-dev",
  iss: "https://127.0.0.1/",
  phone_number: "+14155550100",
};
for (let i = 0; i < 50; i++)
  await new SignJWT(claims)
    .setProtectedHeader({ alg, kid: "k" })
    .setIssuedAt()
    .setExpirationTime("10h")
    .sign(privateKey);
let n = 0;
const end = performance.now() + seconds * 1000;
while (performance.now() < end) {
  await new SignJWT(claims)
    .setProtectedHeader({ alg, kid: "k" })
    .setIssuedAt()
    .setExpirationTime("10h")
    .sign(privateKey);
  n++;
}
console.log(JSON.stringify({ alg, perSecond: n / seconds }));
