/**
 * Check a TLS certificate and key given as PEM text before they are served: every
 * certificate in the cert file parses (the server's first, then an optional chain), the key
 * parses, matches the first certificate, and that certificate is valid now. Pure: the caller
 * reads the files and passes the clock. Messages never quote key material.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";

export interface TlsPair {
  cert: string;
  key: string;
}

export interface CheckedTlsPair extends TlsPair {
  subject: string;
  notAfter: Date;
  /** SHA-256 fingerprint of the server certificate, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint256: string;
}

export class TlsPairError extends Error {
  constructor(
    readonly option: "tls-cert" | "tls-key",
    message: string,
  ) {
    super(message);
    this.name = "TlsPairError";
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function checkTlsPair(pair: TlsPair, now: Date): CheckedTlsPair {
  const blocks = pair.cert.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new TlsPairError("tls-cert", "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file");
  const chain = blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new TlsPairError("tls-cert", `certificate ${i + 1} in the file does not parse`);
    }
  });
  const server = chain[0]!;
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pair.key)) {
    throw new TlsPairError("tls-key", "the key is encrypted with a passphrase; give it unencrypted (readable only by the proxy's user)");
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pair.key);
  } catch {
    throw new TlsPairError("tls-key", "not a PEM private key");
  }
  if (!server.checkPrivateKey(key)) throw new TlsPairError("tls-key", `does not match the certificate in --tls-cert (${server.subject})`);
  if (now < server.validFromDate) throw new TlsPairError("tls-cert", `not valid before ${server.validFromDate.toISOString()} (${server.subject})`);
  if (now > server.validToDate) throw new TlsPairError("tls-cert", `expired on ${server.validToDate.toISOString()} (${server.subject})`);
  return { ...pair, subject: server.subject.replace(/\n/g, ", "), notAfter: server.validToDate, fingerprint256: server.fingerprint256 };
}
