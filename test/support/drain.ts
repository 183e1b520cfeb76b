/** Read a body stream to its end: how many bytes it let through, and the S3 error code it failed with, if any. */
export async function drain(stream: ReadableStream<Uint8Array>): Promise<{ delivered: number; error?: string }> {
  const reader = stream.getReader();
  let delivered = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { delivered };
      delivered += value.length;
    }
  } catch (err) {
    return { delivered, error: (err as { code?: string }).code };
  }
}
