/**
 * The keys clients sign with in `sigv4` mode: from a file (`ACCESS_KEY_ID SECRET
 * [bucket,bucket...]` per line, `#` comments), reloadable, and from an inline list
 * (`AKID:SECRET[:bucket+bucket],...`). An optional bucket allow-list limits a key.
 */

export interface ClientKey {
  accessKeyId: string;
  secretAccessKey: string;
  /** Buckets the key may use; undefined means every bucket. */
  buckets?: ReadonlySet<string>;
}

export class ClientKeysError extends Error {}

function bucketSet(list: string | undefined, separator: string): ReadonlySet<string> | undefined {
  if (list === undefined) return undefined;
  const names = list
    .split(separator)
    .map((b) => b.trim())
    .filter(Boolean);
  return new Set(names);
}

export function parseClientKeysFile(text: string, source = "client keys file"): ClientKey[] {
  const keys: ClientKey[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") return;
    const fields = line.split(/\s+/);
    if (fields.length < 2 || fields.length > 3) throw new ClientKeysError(`${source} line ${i + 1}: expected "ACCESS_KEY_ID SECRET [bucket,bucket...]"`);
    keys.push({ accessKeyId: fields[0]!, secretAccessKey: fields[1]!, buckets: bucketSet(fields[2], ",") });
  });
  return keys;
}

export function parseClientKeysList(text: string): ClientKey[] {
  return text
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const fields = entry.split(":");
      if (fields.length < 2 || fields.length > 3 || !fields[0] || !fields[1]) {
        throw new ClientKeysError(`entry ${i + 1}: expected "AKID:SECRET[:bucket+bucket]"`);
      }
      return { accessKeyId: fields[0], secretAccessKey: fields[1], buckets: bucketSet(fields[2], "+") };
    });
}

/** Inline keys plus the file's, looked up by access key id; `reload` re-reads the file. */
export class ClientKeyStore {
  private keys = new Map<string, ClientKey>();

  constructor(
    private readonly inline: readonly ClientKey[],
    private readonly file?: { path: string; read: (path: string) => Promise<string> },
  ) {
    this.index([]);
  }

  /** Re-read the file; on error the previous keys stay in force and the error is thrown. */
  async reload(): Promise<void> {
    if (!this.file) return;
    let text: string;
    try {
      text = await this.file.read(this.file.path);
    } catch (err) {
      throw new ClientKeysError(`cannot read client keys file ${this.file.path}: ${(err as Error).message}`);
    }
    this.index(parseClientKeysFile(text, this.file.path));
  }

  get(accessKeyId: string): ClientKey | undefined {
    return this.keys.get(accessKeyId);
  }

  get size(): number {
    return this.keys.size;
  }

  private index(fromFile: readonly ClientKey[]): void {
    const next = new Map<string, ClientKey>();
    for (const key of [...fromFile, ...this.inline]) next.set(key.accessKeyId, key);
    this.keys = next;
  }
}
