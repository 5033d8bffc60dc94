import { matchLanguage } from "../messages/language.js";

/** Texts of the hosted login page. `{app}`, `{phone}` and `{seconds}` are filled in at render time. */
const en = {
  title: "Log in to {app}",
  phoneIntro: "Enter your phone number. We will text you a code to log in.",
  country: "Country",
  phone: "Phone number",
  phoneHint: "Your number without the country code, or a full number starting with +.",
  send: "Send code",
  codeIntro: "Enter the code we sent to {phone}.",
  code: "Verification code",
  verify: "Log in",
  resend: "Resend code",
  resendIn: "Resend code in {seconds} s",
  resent: "We sent a new code to {phone}.",
  callInstead: "Call me instead",
  whatsappInstead: "Send via WhatsApp",
  smsInstead: "Text me instead",
  "sentOver.voice": "We are calling {phone} to read you the code.",
  "sentOver.whatsapp": "We sent the code by WhatsApp to {phone}.",
  "sentOver.sms": "We sent the code by text message to {phone}.",
  "alsoSent.voice": "We also called you to read you the code.",
  "alsoSent.whatsapp": "We also sent it by WhatsApp.",
  "alsoSent.sms": "We also sent it by text message.",
  changeNumber: "Use another number",
  errorTitle: "Something went wrong",
  "error.bad_phone": "This phone number is not valid. Check it and try again.",
  "error.phone_refused": "We cannot send codes to this number.",
  "error.wrong_code": "That code is not right. Check the message and try again.",
  "error.max_attempts": "Too many wrong codes. Ask for a new code.",
  "error.too_many": "Too many attempts. Wait a moment and try again.",
  "error.provider": "We could not send the message. Try again in a moment.",
  "error.blocked": "This account is blocked.",
  "error.denied": "Access denied.",
  "error.expired": "This login page has expired. Go back to the application and start again.",
  "error.unavailable": "The service is busy. Try again in a moment.",
  "error.captcha_required": "Complete the check below to show you are not a robot, then try again.",
  "error.captcha_invalid": "The robot check did not pass. Complete it again and try again.",
  "error.generic": "Something went wrong. Try again.",
  verifying: "Checking your login…",
  verifyFailed: "We could not confirm this login. Go back to the application and try again.",
  continue: "Continue",
  loggedOutTitle: "You are logged out",
  loggedOut: "You have been logged out. You can close this window.",
} as const;

export type MessageKey = keyof typeof en;
type Catalog = Record<MessageKey, string>;

const fr: Catalog = {
  title: "Connexion à {app}",
  phoneIntro: "Saisissez votre numéro de téléphone. Nous vous enverrons un code par SMS pour vous connecter.",
  country: "Pays",
  phone: "Numéro de téléphone",
  phoneHint: "Votre numéro sans l’indicatif du pays, ou un numéro complet commençant par +.",
  send: "Recevoir un code",
  codeIntro: "Saisissez le code envoyé au {phone}.",
  code: "Code de vérification",
  verify: "Se connecter",
  resend: "Renvoyer le code",
  resendIn: "Renvoyer le code dans {seconds} s",
  resent: "Un nouveau code a été envoyé au {phone}.",
  callInstead: "Appelez-moi plutôt",
  whatsappInstead: "Recevoir par WhatsApp",
  smsInstead: "Recevoir par SMS",
  "sentOver.voice": "Nous appelons le {phone} pour vous dicter le code.",
  "sentOver.whatsapp": "Nous avons envoyé le code par WhatsApp au {phone}.",
  "sentOver.sms": "Nous avons envoyé le code par SMS au {phone}.",
  "alsoSent.voice": "Nous vous avons aussi appelé pour vous dicter le code.",
  "alsoSent.whatsapp": "Nous l'avons aussi envoyé par WhatsApp.",
  "alsoSent.sms": "Nous l'avons aussi envoyé par SMS.",
  changeNumber: "Utiliser un autre numéro",
  errorTitle: "Une erreur est survenue",
  "error.bad_phone": "Ce numéro de téléphone n’est pas valide. Vérifiez-le et réessayez.",
  "error.phone_refused": "Nous ne pouvons pas envoyer de code à ce numéro.",
  "error.wrong_code": "Ce code n’est pas le bon. Vérifiez le message et réessayez.",
  "error.max_attempts": "Trop de codes erronés. Demandez un nouveau code.",
  "error.too_many": "Trop de tentatives. Patientez un instant puis réessayez.",
  "error.provider": "Le message n’a pas pu être envoyé. Réessayez dans un instant.",
  "error.blocked": "Ce compte est bloqué.",
  "error.denied": "Accès refusé.",
  "error.expired": "Cette page de connexion a expiré. Retournez à l’application et recommencez.",
  "error.unavailable": "Le service est occupé. Réessayez dans un instant.",
  "error.captcha_required":
    "Effectuez la vérification ci-dessous pour montrer que vous n'êtes pas un robot, puis réessayez.",
  "error.captcha_invalid": "La vérification anti-robot a échoué. Recommencez-la puis réessayez.",
  "error.generic": "Une erreur est survenue. Réessayez.",
  verifying: "Vérification de votre connexion…",
  verifyFailed: "Impossible de confirmer cette connexion. Retournez à l’application et réessayez.",
  continue: "Continuer",
  loggedOutTitle: "Vous êtes déconnecté",
  loggedOut: "Vous avez été déconnecté. Vous pouvez fermer cette fenêtre.",
};

const es: Catalog = {
  title: "Iniciar sesión en {app}",
  phoneIntro: "Introduce tu número de teléfono. Te enviaremos un código por SMS para iniciar sesión.",
  country: "País",
  phone: "Número de teléfono",
  phoneHint: "Tu número sin el prefijo del país, o un número completo que empiece por +.",
  send: "Enviar código",
  codeIntro: "Introduce el código que enviamos al {phone}.",
  code: "Código de verificación",
  verify: "Iniciar sesión",
  resend: "Reenviar código",
  resendIn: "Reenviar código en {seconds} s",
  resent: "Enviamos un código nuevo al {phone}.",
  callInstead: "Llámame en su lugar",
  whatsappInstead: "Enviar por WhatsApp",
  smsInstead: "Enviar por SMS",
  "sentOver.voice": "Te estamos llamando al {phone} para dictarte el código.",
  "sentOver.whatsapp": "Enviamos el código por WhatsApp al {phone}.",
  "sentOver.sms": "Enviamos el código por SMS al {phone}.",
  "alsoSent.voice": "También te llamamos para dictarte el código.",
  "alsoSent.whatsapp": "También lo enviamos por WhatsApp.",
  "alsoSent.sms": "También lo enviamos por SMS.",
  changeNumber: "Usar otro número",
  errorTitle: "Algo salió mal",
  "error.bad_phone": "Este número de teléfono no es válido. Revísalo e inténtalo de nuevo.",
  "error.phone_refused": "No podemos enviar códigos a este número.",
  "error.wrong_code": "El código no es correcto. Revisa el mensaje e inténtalo de nuevo.",
  "error.max_attempts": "Demasiados códigos incorrectos. Pide un código nuevo.",
  "error.too_many": "Demasiados intentos. Espera un momento e inténtalo de nuevo.",
  "error.provider": "No pudimos enviar el mensaje. Inténtalo de nuevo en un momento.",
  "error.blocked": "Esta cuenta está bloqueada.",
  "error.denied": "Acceso denegado.",
  "error.expired": "Esta página de inicio de sesión ha caducado. Vuelve a la aplicación y empieza de nuevo.",
  "error.unavailable": "El servicio está ocupado. Inténtalo de nuevo en un momento.",
  "error.captcha_required":
    "Completa la verificación de abajo para demostrar que no eres un robot e inténtalo de nuevo.",
  "error.captcha_invalid": "La verificación antirrobot no se superó. Complétala de nuevo e inténtalo otra vez.",
  "error.generic": "Algo salió mal. Inténtalo de nuevo.",
  verifying: "Comprobando tu inicio de sesión…",
  verifyFailed: "No pudimos confirmar este inicio de sesión. Vuelve a la aplicación e inténtalo de nuevo.",
  continue: "Continuar",
  loggedOutTitle: "Has cerrado sesión",
  loggedOut: "Has cerrado sesión. Puedes cerrar esta ventana.",
};

export const PAGE_LANGUAGES = { en, fr, es } as const satisfies Record<string, Catalog>;
export type PageLanguage = keyof typeof PAGE_LANGUAGES;

/**
 * The page language: `ui_locales` (space-separated, OIDC) first, then `Accept-Language`, then English.
 */
export function pageLanguage(uiLocales: string | undefined, acceptLanguage: string | undefined): PageLanguage {
  const available = Object.keys(PAGE_LANGUAGES);
  const fromUi = uiLocales ? matchLanguage(uiLocales.split(/\s+/).join(","), available) : undefined;
  return (fromUi ?? (acceptLanguage ? matchLanguage(acceptLanguage, available) : undefined) ?? "en") as PageLanguage;
}

/** A translator for one language. */
export function translator(language: PageLanguage) {
  const catalog: Catalog = PAGE_LANGUAGES[language];
  return (key: MessageKey, vars: Record<string, string | number> = {}) =>
    catalog[key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}
export type Translate = ReturnType<typeof translator>;
