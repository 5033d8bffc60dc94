// Logs in once through function hooks in a fresh process and reports whether isolated-vm was loaded.
// Run by function-hooks.test.ts without --no-node-snapshot, the flag isolated-vm needs on Node 20:
// an embedder using only functions must not need it. With `--with-script` it also configures a script
// hook, which shows the check does see the native module when it is loaded.
import { createRequire } from "node:module";
import { createTestTextlock } from "../helpers/create-test-textlock.js";

const withScript = process.argv.includes("--with-script");
const tl = await createTestTextlock({
  hooks: {
    functions: { "post-login": (_event, api) => api.idToken.setCustomClaim("https://example.com/in-process", true) },
    scripts: withScript
      ? {
          "pre-user-registration": new URL("../../docs/examples/hooks/pre-user-registration.js", import.meta.url)
            .pathname,
        }
      : {},
  },
});
try {
  const phone = "+14155550199";
  await tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: phone });
  const tokens = await tl.api.token(
    {
      grant_type: "http://auth0.com/oauth/grant-type/passwordless/otp",
      client_id: "textlock-dev",
      username: phone,
      otp: tl.lastCode(phone),
      realm: "sms",
      scope: "openid",
    },
    { issuer: "https://auth.example.test/" },
  );
  const claims = JSON.parse(Buffer.from(tokens.id_token!.split(".")[1]!, "base64url").toString());
  const report = process.report.getReport() as unknown as { sharedObjects: string[] };
  const modules = Object.keys(createRequire(import.meta.url).cache);
  console.log(
    JSON.stringify({
      claim: claims["https://example.com/in-process"],
      nativeLoaded: report.sharedObjects.some((f) => f.includes("isolated_vm") || f.includes("isolated-vm")),
      moduleLoaded: modules.some((f) => f.includes("isolated-vm")),
    }),
  );
} finally {
  await tl.close();
}
