/**
 * The Standard Schema interface (https://standardschema.dev), copied as its authors intend so that a
 * provider's option schema can come from zod 4, valibot, arktype or any other library that
 * implements it, whichever copy the plugin bundles.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

export interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** The output type of a Standard Schema. */
export type InferOutput<S> = S extends StandardSchemaV1<unknown, infer O> ? O : never;

/** `a.b.0`-style path of an issue. */
export function issuePath(issue: StandardIssue): string {
  return (issue.path ?? []).map((p) => String(typeof p === "object" && p !== null ? p.key : p)).join(".");
}
