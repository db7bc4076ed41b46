package dev.kiln.frontend;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Small assertion helpers for messages. */
final class Expect {
    private Expect() {}

    static void messageHas(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "message lacks '" + p + "': " + e.getMessage());
        }
    }
}
