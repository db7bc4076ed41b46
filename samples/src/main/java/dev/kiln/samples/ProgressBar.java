package dev.kiln.samples;

import java.io.PrintStream;

/** A one-line text progress bar, redrawn in place with a carriage return. */
final class ProgressBar {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private final String label;
    private final int total;
    private int done;

    ProgressBar(PrintStream out, String label, int total) {
        this.out = out;
        this.label = label;
        this.total = Math.max(total, 1);
    }

    /** Advances by one step and redraws with {@code status}. */
    void update(String status) {
        done++;
        draw(status, '\r');
    }

    /** Draws the final state and ends the line. */
    void finish(String status) {
        draw(status, '\r');
        out.println();
    }

    private void draw(String status, char prefix) {
        int filled = (int) ((long) WIDTH * Math.min(done, total) / total);
        String bar = "=".repeat(filled) + (filled < WIDTH ? ">" + " ".repeat(WIDTH - filled - 1) : "");
        out.print(prefix + String.format("%s [%s] %d/%d  %s", label, bar, Math.min(done, total), total, status));
        out.flush();
    }
}
