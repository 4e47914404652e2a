package io.h3relay.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The key files of the {@code http3} block. Both are text: one base64 key per line, blank lines and lines
 * starting with {@code #} ignored.
 * <ul>
 *   <li>{@code ticket_key_file}: 48-byte TLS session ticket keys (16 name, 16 HMAC, 16 AES), as nginx's
 *       {@code ssl_session_ticket_key}; the first line encrypts new tickets, every line decrypts;
 *       {@code head -c 48 /dev/urandom | base64} makes one.</li>
 *   <li>{@code stateless_reset_key_file}: one key of at least 16 bytes (32 recommended) from which stateless
 *       reset tokens are derived (HMAC-SHA256 of the connection id).</li>
 * </ul>
 */
public final class QuicKeyFiles {
    public static final int TICKET_KEY_SIZE = 48;

    private QuicKeyFiles() {
    }

    /** The ticket keys of {@code file}, first (encrypting) first; an IOException says what is wrong. */
    public static List<byte[]> ticketKeys(Path file) throws IOException {
        List<byte[]> keys = lines(file);
        for (int i = 0; i < keys.size(); i++) {
            if (keys.get(i).length != TICKET_KEY_SIZE) {
                throw new IOException("key " + (i + 1) + " of " + file.getFileName() + " has " + keys.get(i).length
                        + " bytes, expected 48 (head -c 48 /dev/urandom | base64)");
            }
        }
        if (keys.isEmpty()) {
            throw new IOException(file.getFileName() + " holds no key (one base64 48-byte key per line)");
        }
        return keys;
    }

    /** The stateless reset key of {@code file}. */
    public static byte[] resetKey(Path file) throws IOException {
        List<byte[]> keys = lines(file);
        if (keys.size() != 1 || keys.get(0).length < 16) {
            throw new IOException(file.getFileName() + " must hold exactly one base64 key of at least 16 bytes"
                    + " (head -c 32 /dev/urandom | base64)");
        }
        return keys.get(0);
    }

    private static List<byte[]> lines(Path file) throws IOException {
        List<byte[]> out = new ArrayList<>();
        int n = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
            n++;
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            try {
                out.add(Base64.getDecoder().decode(t));
            } catch (IllegalArgumentException e) {
                throw new IOException("line " + n + " of " + file.getFileName() + " is not base64");
            }
        }
        return out;
    }
}
