/**
 * The headers of an HTML page the API serves (the result viewer, the API docs). `policy` lists
 * what the page may load and run; every page also refuses to be framed by another site (a
 * click-jacked form that takes a key), a base or form target elsewhere, MIME sniffing, and
 * sending its address on as a referrer.
 */
export function pageHeaders(policy: string): Record<string, string> {
  return {
    'content-security-policy': `${policy}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}
