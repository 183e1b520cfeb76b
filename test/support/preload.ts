/**
 * Runs before every test file: a developer's own AWS settings must never reach the suites
 * (or the clients they spawn), and nothing may probe the EC2 metadata address.
 */
for (const name of Object.keys(process.env)) {
  if (name.startsWith("AWS_") || name === "ENDPOINT" || name === "RUST_LOG") delete process.env[name];
}
process.env.AWS_EC2_METADATA_DISABLED = "true";
process.env.AWS_CONFIG_FILE = "/dev/null";
process.env.AWS_SHARED_CREDENTIALS_FILE = "/dev/null";
