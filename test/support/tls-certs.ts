/**
 * A throw-away certificate authority made with openssl in a temp directory, and server
 * certificates for 127.0.0.1/localhost signed by it (`openssl ca`, which alone lets a test
 * set both validity dates, so an expired certificate needs no clock games).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ServerCertificate {
  certFile: string;
  keyFile: string;
}

export interface TestCa {
  dir: string;
  /** The CA certificate: what clients are told to trust. */
  caFile: string;
  /** A new key and a certificate for it; dates as openssl's YYYYMMDDHHMMSSZ, else valid for two days around now. */
  issue(name: string, opts?: { notBefore?: string; notAfter?: string; chain?: boolean }): Promise<ServerCertificate>;
  remove(): void;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const proc = Bun.spawn(["openssl", ...args], { cwd, stdout: "ignore", stderr: "pipe" });
  if ((await proc.exited) !== 0) throw new Error(`openssl ${args[0]} failed: ${await new Response(proc.stderr).text()}`);
}

const CA_CONFIG = `[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
`;

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
}

export async function createTestCa(): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), "test-ca-"));
  await Bun.write(join(dir, "ca.cnf"), CA_CONFIG);
  await Bun.write(join(dir, "index.txt"), "");
  await Bun.write(join(dir, "serial"), "01\n");
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=s3proxy test CA"], dir);
  const caFile = join(dir, "ca.crt");
  return {
    dir,
    caFile,
    async issue(name, opts = {}) {
      const day = 24 * 3600_000;
      const notBefore = opts.notBefore ?? stamp(new Date(Date.now() - day));
      const notAfter = opts.notAfter ?? stamp(new Date(Date.now() + day));
      await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`, "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], dir);
      await openssl(["ca", "-batch", "-notext", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", `${name}.csr`, "-out", `${name}.crt`, "-startdate", notBefore, "-enddate", notAfter], dir);
      const certFile = join(dir, `${name}.crt`);
      // A chain file: the server certificate, then the CA's (what a real intermediate bundle looks like).
      if (opts.chain) await Bun.write(certFile, (await Bun.file(certFile).text()) + (await Bun.file(caFile).text()));
      return { certFile, keyFile: join(dir, `${name}.key`) };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
