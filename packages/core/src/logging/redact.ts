/**
 * Credentials never reach logs, errors or `config show`. Redaction is by value
 * (the secrets the SDK's credential chain would read from the environment) and
 * by shape (URL user info, keys that name a secret).
 */
export const REDACTED = '[REDACTED]';

// The SDK's chain also reads a bearer token for the container credential endpoint (ECS, EKS Pod Identity).
const SECRET_ENV_VARS = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_CONTAINER_AUTHORIZATION_TOKEN'] as const;
const SECRET_KEY = /secret|password|passwd|token|authorization|credential|signature/i;
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;

/** Secret values present in the environment; short values are ignored to avoid mangling text. */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  return SECRET_ENV_VARS.map((name) => env[name]).filter((value): value is string => value !== undefined && value.length >= 8);
}

export function redactText(text: string, secrets: readonly string[]): string {
  let out = text.replace(URL_USERINFO, `$1${REDACTED}@`);
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  return out;
}

/** A deep copy of `value` with secrets replaced; keys that name a secret lose their value. */
export function redactValue<T>(value: T, secrets: readonly string[]): T {
  return walk(value, secrets) as T;
}

/** The value logged under `key`: gone if the key names a secret, else redacted. */
export function redactEntry(key: string, value: unknown, secrets: readonly string[]): unknown {
  return SECRET_KEY.test(key) && value != null ? REDACTED : walk(value, secrets);
}

function walk(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => walk(item, secrets));
  if (value instanceof Error) return redactText(value.message, secrets);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactEntry(key, item, secrets)]));
  }
  return value;
}
