/**
 * A TLS terminator in front of a plain-HTTP server, like nginx or a load balancer would be:
 * bytes are relayed unchanged both ways. Clients that only use some features over https
 * (the aws cli sends aws-chunked trailing checksums only over TLS) can then reach the proxy.
 * The certificate is self-signed for 127.0.0.1 and made fresh with openssl.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:tls";

export interface TlsRelay {
  endpoint: string;
  /** PEM file of the relay's certificate, for the client's CA bundle. */
  caFile: string;
  /** The first bytes of every connection's client-to-server stream (request lines and headers). */
  heads: string[];
  stop(): Promise<void>;
}

export async function startTlsRelay(target: { hostname: string; port: number }): Promise<TlsRelay> {
  const dir = mkdtempSync(join(tmpdir(), "tls-relay-"));
  const [keyFile, certFile] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  const openssl = Bun.spawn(
    ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    { stdout: "ignore", stderr: "pipe" },
  );
  if ((await openssl.exited) !== 0) throw new Error(`openssl failed: ${await new Response(openssl.stderr).text()}`);

  const heads: string[] = [];
  const server = createServer({ key: await Bun.file(keyFile).text(), cert: await Bun.file(certFile).text() }, (client) => {
    const upstream = connect(target.port, target.hostname);
    let head = "";
    client.on("data", (chunk: Buffer) => {
      if (head.length < 8192) head += chunk.toString("latin1");
    });
    client.on("end", () => heads.push(head));
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    caFile: certFile,
    heads,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
