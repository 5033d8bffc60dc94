import { page } from "../core/browser/page-shell.js";
import { DEFAULT_CLIENTS, DEFAULT_CONNECTIONS, type TextlockConfigInput } from "../core/config/schema.js";
import type { Route } from "../core/http/handler.js";

export const DEMO_CLIENT_ID = "textlock-demo";

/**
 * The configuration plus the demo application: a public client (PKCE) whose callbacks are
 * `<base>demo/callback` for each base URL the server answers on, enabled on every connection.
 */
export function withDemoClient(config: TextlockConfigInput, baseUrls: string[]): TextlockConfigInput {
  const callbacks = [
    ...new Set(baseUrls.map((u) => new URL("demo/callback", u.endsWith("/") ? u : `${u}/`).toString())),
  ];
  const clients = [...(config.clients ?? DEFAULT_CLIENTS)];
  clients.push({
    client_id: DEMO_CLIENT_ID,
    name: "textlock demo",
    app_type: "spa",
    token_endpoint_auth_method: "none",
    callbacks,
  });
  const connections = (config.connections ?? DEFAULT_CONNECTIONS).map((c) => ({
    ...c,
    enabled_clients: [...(c.enabled_clients ?? []), DEMO_CLIENT_ID],
  }));
  return { ...config, clients, connections };
}

/**
 * The demo single-page app. It logs in through the hosted page with the authorization code flow and
 * PKCE, exchanges the code at `/oauth/token`, and shows the `/userinfo` profile and the id_token claims.
 */
const SCRIPT = `
(function(){
var CLIENT_ID=${JSON.stringify(DEMO_CLIENT_ID)};
var base=location.origin+location.pathname.replace(/demo(\\/callback)?\\/?$/,"");
var redirectUri=base+"demo/callback";
var out=document.getElementById("app");
function b64url(bytes){var s="";bytes.forEach(function(b){s+=String.fromCharCode(b)});return btoa(s).replace(/\\+/g,"-").replace(/\\//g,"_").replace(/=+$/,"");}
function el(tag,text,attrs){var e=document.createElement(tag);if(text!=null)e.textContent=text;for(var k in attrs||{})e.setAttribute(k,attrs[k]);return e;}
function show(){out.replaceChildren.apply(out,arguments);}
function loginButton(){var b=el("button","Log in with your phone",{id:"login",type:"button"});b.addEventListener("click",login);return b;}
async function login(){
  var verifier=b64url(crypto.getRandomValues(new Uint8Array(32)));
  var challenge=b64url(new Uint8Array(await crypto.subtle.digest("SHA-256",new TextEncoder().encode(verifier))));
  var state=b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("textlock-demo",JSON.stringify({verifier:verifier,state:state}));
  location.assign(base+"authorize?"+new URLSearchParams({client_id:CLIENT_ID,response_type:"code",connection:"sms",redirect_uri:redirectUri,
    scope:"openid profile phone",state:state,code_challenge:challenge,code_challenge_method:"S256"}));
}
function claimsOf(jwt){try{return JSON.parse(decodeURIComponent(escape(atob(jwt.split(".")[1].replace(/-/g,"+").replace(/_/g,"/")))));}catch(e){return {};}}
async function callback(){
  var q=new URLSearchParams(location.search);
  var saved=JSON.parse(sessionStorage.getItem("textlock-demo")||"{}");
  sessionStorage.removeItem("textlock-demo");
  history.replaceState(null,"",base+"demo/callback");
  if(q.get("error")){show(el("h1","Login failed"),el("p",q.get("error")+": "+(q.get("error_description")||""),{role:"alert",id:"error"}),loginButton());return;}
  if(!q.get("code")||q.get("state")!==saved.state){show(el("h1","Login failed"),el("p","The answer does not belong to this browser's login (state mismatch).",{role:"alert",id:"error"}),loginButton());return;}
  var res=await fetch(base+"oauth/token",{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify({grant_type:"authorization_code",client_id:CLIENT_ID,code:q.get("code"),redirect_uri:redirectUri,code_verifier:saved.verifier})});
  var tokens=await res.json();
  if(!res.ok){show(el("h1","Login failed"),el("p",tokens.error+": "+tokens.error_description,{role:"alert",id:"error"}),loginButton());return;}
  var profile=await (await fetch(base+"userinfo",{headers:{authorization:"Bearer "+tokens.access_token}})).json();
  var dl=el("dl",null,{id:"profile"});
  [["Phone number",profile.phone_number,"phone"],["User id",profile.sub,"sub"],["Name",profile.name,"name"],["Updated",profile.updated_at,"updated"]].forEach(function(r){
    if(r[1]==null)return;dl.append(el("dt",r[0]),el("dd",String(r[1]),{"data-field":r[2]}));});
  var pre=el("pre",JSON.stringify(claimsOf(tokens.id_token),null,2),{id:"claims"});
  var out2=el("button","Log out",{id:"logout",type:"button"});out2.addEventListener("click",function(){location.assign(base+"demo");});
  show(el("h1","You are logged in",{id:"welcome"}),el("p","This is your profile from /userinfo:"),dl,el("h2","id_token claims"),pre,out2);
}
if(/\\/demo\\/callback\\/?$/.test(location.pathname)&&location.search){callback().catch(function(e){show(el("p",String(e),{role:"alert",id:"error"}),loginButton());});}
else{show(el("h1","textlock demo"),el("p","This small app logs in through textlock's hosted page: you enter a phone number, get a code by SMS (the console provider prints it), and come back here with your profile."),loginButton());}
})();`;

function demoPage() {
  return page({
    language: "en",
    title: "textlock demo",
    body: `<div id="app" aria-live="polite"><p>Loading…</p></div>`,
    script: SCRIPT,
    csp: { "connect-src": "'self'" },
  });
}

/** `GET /demo` and `GET /demo/callback`, served by `textlock serve --demo`. */
export const demoRoutes: Route[] = [
  { method: "GET", path: "/demo", handle: demoPage },
  { method: "GET", path: "/demo/callback", handle: demoPage },
];
