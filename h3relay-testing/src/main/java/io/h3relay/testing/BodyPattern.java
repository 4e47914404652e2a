package io.h3relay.testing;

import io.netty.buffer.ByteBuf;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The deterministic body content the test endpoint serves and tests upload: byte {@code i} of a body
 * is {@code (i * 31 + 7) & 0xff}.
 *
 * <p>Because the content is a function of the offset, a test can check a body of any size by its
 * length and sha-256 alone, without either side ever holding the whole body in memory. 31 is odd,
 * so the sequence has period 256 and every offset modulo 256 maps to one window of {@link #WINDOW}.
 */
public final class BodyPattern {

  /** Largest slice copied per call; also the chunk size the endpoint streams with. */
  static final int CHUNK = 16 * 1024;

  private static final int PERIOD = 256;

  // CHUNK + PERIOD bytes, so any offset modulo PERIOD starts a slice of at least CHUNK bytes.
  private static final byte[] WINDOW = new byte[CHUNK + PERIOD];

  static {
    for (int i = 0; i < WINDOW.length; i++) {
      WINDOW[i] = byteAt(i);
    }
  }

  private BodyPattern() {}

  /** The byte at {@code offset} of every pattern body. */
  public static byte byteAt(long offset) {
    return (byte) ((offset * 31 + 7) & 0xff);
  }

  /** Appends {@code length} pattern bytes that start at body offset {@code offset} to {@code buf}. */
  static void write(ByteBuf buf, long offset, int length) {
    while (length > 0) {
      int n = Math.min(length, CHUNK);
      buf.writeBytes(WINDOW, (int) (offset % PERIOD), n);
      offset += n;
      length -= n;
    }
  }

  /** The first {@code n} pattern bytes; for small bodies only. */
  public static byte[] bytes(int n) {
    byte[] out = new byte[n];
    for (int i = 0; i < n; i++) {
      out[i] = byteAt(i);
    }
    return out;
  }

  /** Lowercase hex sha-256 of the first {@code n} pattern bytes, computed in constant memory. */
  public static String sha256Hex(long n) {
    MessageDigest digest = sha256();
    long offset = 0;
    while (offset < n) {
      int len = (int) Math.min(CHUNK, n - offset);
      digest.update(WINDOW, (int) (offset % PERIOD), len);
      offset += len;
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /** Lowercase hex sha-256 of {@code data}. */
  public static String sha256Hex(byte[] data) {
    return HexFormat.of().formatHex(sha256().digest(data));
  }

  /**
   * A stream of the first {@code n} pattern bytes, for uploading large bodies (for example with
   * {@code HttpRequest.BodyPublishers.ofInputStream}) without allocating them.
   */
  public static InputStream inputStream(long n) {
    return new InputStream() {
      private long offset;

      @Override
      public int read() {
        return offset < n ? byteAt(offset++) & 0xff : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (len == 0) {
          return 0;
        }
        if (offset >= n) {
          return -1;
        }
        int count = (int) Math.min(Math.min(len, CHUNK), n - offset);
        System.arraycopy(WINDOW, (int) (offset % PERIOD), b, off, count);
        offset += count;
        return count;
      }
    };
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
