package io.h3relay.listener.h3;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The index rewriting of {@link QpackEncoderStreamFix} against Netty's own decoder table: RFC 9204 §3.2.5 says
 * relative index 0 of an encoder instruction is the most recently inserted entry; Netty 4.2.18's table reads
 * the oldest for it, and the rewritten index must make it read the entry the client meant, also once the ring
 * has wrapped and evicted.
 */
class QpackEncoderStreamFixTest {
    private static final String PKG = "io.netty.handler.codec.http3.";

    private static Object table(long capacity) throws Exception {
        Constructor<?> c = Class.forName(PKG + "QpackDecoderDynamicTable").getDeclaredConstructor();
        c.setAccessible(true);
        Object t = c.newInstance();
        Method set = t.getClass().getDeclaredMethod("setCapacity", long.class);
        set.setAccessible(true);
        set.invoke(t, capacity);
        return t;
    }

    private static void add(Object table, String name, String value) throws Exception {
        Constructor<?> f = Class.forName(PKG + "QpackHeaderField").getDeclaredConstructor(CharSequence.class, CharSequence.class);
        f.setAccessible(true);
        Method add = table.getClass().getDeclaredMethod("add", f.getDeclaringClass());
        add.setAccessible(true);
        add.invoke(table, f.newInstance(name, value));
    }

    private static String nettyReads(Object table, long index) throws Exception {
        Method get = table.getClass().getDeclaredMethod("getEntryRelativeEncoderInstructions", int.class);
        get.setAccessible(true);
        return String.valueOf(get.invoke(table, (int) index));
    }

    @Test
    void nettysTableReadsTheOldestEntryForRelativeIndexZero() throws Exception {
        Object t = table(4096);
        add(t, "a", "1");
        add(t, "b", "2");
        assertThat(nettyReads(t, 0)).as("the defect the fix exists for").isEqualTo("a: 1");
        assertThat(QpackEncoderStreamFix.NEEDED).as("the fix detects it").isTrue();
    }

    @Test
    void rewrittenIndexesNameTheEntryTheClientMeant() throws Exception {
        // Room for 3 entries of 34 bytes (32 + name + value): the ring wraps and evicts as entries come.
        Object t = table(3 * 34);
        for (int i = 0; i < 10; i++) {
            add(t, "n", String.valueOf(i));
            int live = Math.min(i + 1, 3);
            for (int r = 0; r < live; r++) {
                assertThat(nettyReads(t, QpackEncoderStreamFix.nettyIndex(t, r)))
                        .as("after %d inserts, relative %d", i + 1, r).isEqualTo("n: " + (i - r));
            }
            assertThat(QpackEncoderStreamFix.nettyIndex(t, live)).as("past the entries").isEqualTo(-1);
        }
    }

    @Test
    void instructionsAreFramedAndPrefixIntegersRoundTrip() {
        ByteBuf b = Unpooled.buffer();
        QpackEncoderStreamFix.writePrefixed(b, 0x80, 6, 1000);       // Insert with Name Reference, dynamic, index 1000
        b.writeByte(0x03).writeBytes(new byte[] {'x', 'y', 'z'});     // value "xyz", no Huffman
        int end = b.writerIndex();
        b.writeByte(0x41);                                            // the start of a next instruction (literal name)
        assertThat(QpackEncoderStreamFix.instructionEnd(b)).isEqualTo(end);
        int[] read = new int[1];
        assertThat(QpackEncoderStreamFix.prefixed(b, 0, 6, read)).isEqualTo(1000);
        ByteBuf cut = b.copy(0, end - 1);
        assertThat(QpackEncoderStreamFix.instructionEnd(cut)).as("incomplete").isEqualTo(-1);
    }
}
