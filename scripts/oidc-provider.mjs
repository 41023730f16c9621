// A real OpenID Connect provider on loopback for the sign-in tests: the certified `oidc-provider` package, with
// its own login interaction (a form), authorization codes, and signed ID tokens. Two test users; any password.
// Usage: node scripts/oidc-provider.mjs PORT   (installed into .cache/oidc-provider by `make setup-test`)
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", ".cache", "oidc-provider", "package.json"));
const { default: Provider } = await import(require.resolve("oidc-provider"));

const port = Number(process.argv[2] || 9300);
const issuer = `http://127.0.0.1:${port}`;
export const USERS = {
  "admin@example.test": { name: "Ada Admin" },
  "reviewer@example.test": { name: "Rita Reviewer" },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: "loupe",
    client_secret: "loupe-test-secret",
    redirect_uris: ["http://127.0.0.1/oauth2callback"],  // any loopback port: see redirectUriAllowed below
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  scopes: ["openid", "email", "profile"],
  pkce: { required: () => false },
  conformIdTokenClaims: false,  // put email in the ID token, which is what Streamlit reads into st.user
  cookies: { keys: ["loupe-test-cookie-key"] },
  features: { devInteractions: { enabled: true } },  // the provider's own login form (test users only)
  async findAccount(ctx, id) {
    const user = USERS[id];
    if (!user) return undefined;  // an unknown login is refused by the provider
    return { accountId: id, async claims() { return { sub: id, email: id, email_verified: true, name: user.name }; } };
  },
  async loadExistingGrant(ctx) {  // first-party client: no consent screen
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId,
                                                accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
  ttl: { Session: 3600, IdToken: 3600, AccessToken: 3600, Interaction: 600, Grant: 3600 },
});
// The app under test listens on a free loopback port per test; allow its callback on any port of 127.0.0.1.
const allowed = provider.Client.prototype.redirectUriAllowed;
provider.Client.prototype.redirectUriAllowed = function (uri) {
  try {
    const u = new URL(uri);
    if (u.protocol === "http:" && u.hostname === "127.0.0.1" && u.pathname === "/oauth2callback") return true;
  } catch { /* not a URL */ }
  return allowed.call(this, uri);
};
provider.listen(port, "127.0.0.1", () => console.log(`oidc-provider listening on ${issuer}`));
