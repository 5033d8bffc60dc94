// Compiled by test/types/types.test.ts (not run): the hand-written, documented TextlockOptions must
// name exactly the keys the zod schema accepts, at every level the user writes.
import type { TextlockOptions } from "../../core/config/options.js";
import type { TextlockConfigInput } from "../../core/config/schema.js";

type Defined<T> = Exclude<T, undefined>;
/** Keys of an object type without its index signature (connection options accept plugin options). */
type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Check<T extends true> = T;

type Options = Defined<TextlockOptions>;
type Schema = Defined<TextlockConfigInput>;
type Of<T, K extends keyof T> = Defined<T[K]>;
type Item<T> = T extends readonly (infer I)[] ? I : never;

export type Top = Check<Same<KnownKeys<Options>, KnownKeys<Schema>>>;
export type Otp = Check<Same<KnownKeys<Of<Options, "otp">>, KnownKeys<Of<Schema, "otp">>>>;
export type Tokens = Check<Same<KnownKeys<Of<Options, "tokens">>, KnownKeys<Of<Schema, "tokens">>>>;
export type Protection = Check<Same<KnownKeys<Of<Options, "protection">>, KnownKeys<Of<Schema, "protection">>>>;
export type Pumping = Check<
  Same<KnownKeys<Of<Of<Options, "protection">, "pumping">>, KnownKeys<Of<Of<Schema, "protection">, "pumping">>>
>;
export type Budgets = Check<
  Same<KnownKeys<Of<Of<Options, "protection">, "budgets">>, KnownKeys<Of<Of<Schema, "protection">, "budgets">>>
>;
export type Hooks = Check<Same<KnownKeys<Of<Options, "hooks">>, KnownKeys<Of<Schema, "hooks">>>>;
export type Risk = Check<Same<KnownKeys<Of<Options, "risk">>, KnownKeys<Of<Schema, "risk">>>>;
export type TwilioLookup = Check<
  Same<KnownKeys<Of<Of<Options, "risk">, "twilioLookup">>, KnownKeys<Of<Of<Schema, "risk">, "twilioLookup">>>
>;
export type VonageRisk = Check<
  Same<KnownKeys<Of<Of<Options, "risk">, "vonage">>, KnownKeys<Of<Of<Schema, "risk">, "vonage">>>
>;
export type Delivery = Check<Same<KnownKeys<Of<Options, "delivery">>, KnownKeys<Of<Schema, "delivery">>>>;
export type Messages = Check<Same<KnownKeys<Of<Options, "messages">>, KnownKeys<Of<Schema, "messages">>>>;
export type Server = Check<Same<KnownKeys<Of<Options, "server">>, KnownKeys<Of<Schema, "server">>>>;
export type Login = Check<Same<KnownKeys<Of<Options, "login">>, KnownKeys<Of<Schema, "login">>>>;
export type Logging = Check<Same<KnownKeys<Of<Options, "logging">>, KnownKeys<Of<Schema, "logging">>>>;
export type Audit = Check<Same<KnownKeys<Of<Options, "audit">>, KnownKeys<Of<Schema, "audit">>>>;
export type LogStream = Check<
  Same<KnownKeys<Item<Of<Of<Options, "audit">, "streams">>>, KnownKeys<Item<Of<Of<Schema, "audit">, "streams">>>>
>;
export type Metrics = Check<Same<KnownKeys<Of<Options, "metrics">>, KnownKeys<Of<Schema, "metrics">>>>;
export type Client = Check<Same<KnownKeys<Item<Of<Options, "clients">>>, KnownKeys<Item<Of<Schema, "clients">>>>>;
export type Connection = Check<
  Same<KnownKeys<Item<Of<Options, "connections">>>, KnownKeys<Item<Of<Schema, "connections">>>>
>;

// Every value the documented interface allows is a valid schema input (types, not only keys).
export const accept = (options: TextlockOptions): TextlockConfigInput => options;
