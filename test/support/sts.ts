/**
 * A loopback STS endpoint answering AssumeRoleWithWebIdentity like AWS does (form POST in,
 * AssumeRoleWithWebIdentityResponse XML out), for the tokens it was given. Counts exchanges,
 * and can hold answers until released so tests can pile up concurrent requests.
 */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  subject: string;
}

export interface TestSts {
  endpoint: string;
  /** Exchanges answered (or held) so far, per token. */
  exchanges: Map<string, number>;
  /** When the credentials issued from now on expire. */
  expiration: () => Date;
  /** While set, answers wait for it. */
  gate?: Promise<void>;
  roleArnsSeen: string[];
  stop(): Promise<void>;
}

export function startSts(tokens: Record<string, IssuedCredentials>): TestSts {
  const sts: TestSts = {
    endpoint: "",
    exchanges: new Map(),
    expiration: () => new Date(Date.now() + 3600_000),
    roleArnsSeen: [],
    async stop() {
      await server.stop(true);
    },
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const form = new URLSearchParams(await req.text());
      if (form.get("Action") !== "AssumeRoleWithWebIdentity") return new Response("bad action", { status: 400 });
      const token = form.get("WebIdentityToken") ?? "";
      sts.exchanges.set(token, (sts.exchanges.get(token) ?? 0) + 1);
      sts.roleArnsSeen.push(form.get("RoleArn") ?? "");
      if (sts.gate) await sts.gate;
      const issued = tokens[token];
      if (!issued) {
        return new Response(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Couldn't verify the token</Message></Error><RequestId>r</RequestId></ErrorResponse>`, {
          status: 400,
          headers: { "content-type": "text/xml" },
        });
      }
      return new Response(
        `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
          `<SubjectFromWebIdentityToken>${issued.subject}</SubjectFromWebIdentityToken><Provider>test-idp</Provider>` +
          `<Credentials><AccessKeyId>${issued.accessKeyId}</AccessKeyId><SecretAccessKey>${issued.secretAccessKey}</SecretAccessKey>` +
          `<SessionToken>${issued.sessionToken}</SessionToken><Expiration>${sts.expiration().toISOString()}</Expiration></Credentials>` +
          `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
        { headers: { "content-type": "text/xml" } },
      );
    },
  });
  sts.endpoint = `http://127.0.0.1:${server.port}/`;
  return sts;
}
