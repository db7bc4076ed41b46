package dev.kiln.ir;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits IR text into tokens with 1-based line and column. Newlines are plain whitespace and
 * {@code //} starts a comment running to the end of the line.
 */
final class IrLexer {

    /** Token kinds; {@code text} holds the name without its sigil, or a string's unescaped content. */
    enum Kind { IDENT, VALUE, SYMBOL, INT, FLOAT, STRING, PUNCT, EOF }

    /** One token and where it starts. */
    record Token(Kind kind, String text, int line, int column) {

        boolean is(Kind k, String t) { return kind == k && text.equals(t); }

        boolean isPunct(char c) { return kind == Kind.PUNCT && text.charAt(0) == c; }

        /** How an error message shows this token. */
        String describe() {
            return switch (kind) {
                case EOF -> "end of input";
                case VALUE -> "'%" + text + "'";
                case SYMBOL -> "'@" + text + "'";
                case STRING -> "string " + AttrText.quote(text);
                default -> "'" + text + "'";
            };
        }
    }

    private static final String PUNCT = "()[]{}<>,:=^?";

    private final String src;
    private int pos;
    private int line = 1;
    private int lineStart;

    private IrLexer(String src) { this.src = src; }

    static List<Token> tokenize(String src) {
        IrLexer lx = new IrLexer(src);
        List<Token> out = new ArrayList<>();
        Token t;
        do {
            t = lx.next();
            out.add(t);
        } while (t.kind() != Kind.EOF);
        return out;
    }

    private Token next() {
        skipSpaceAndComments();
        int startLine = line, startCol = pos - lineStart + 1;
        if (pos >= src.length()) return new Token(Kind.EOF, "", startLine, startCol);
        char c = src.charAt(pos);
        if (c == '%') {
            pos++;
            String name = word(false);
            if (name.isEmpty()) throw error(startLine, startCol, "expected a value name after '%'");
            if (!name.chars().allMatch(ch -> digit((char) ch)) && !ValueNames.IDENTIFIER.matcher(name).matches()) {
                throw error(startLine, startCol, "value name '%" + name + "' must be a number or an identifier");
            }
            return new Token(Kind.VALUE, name, startLine, startCol);
        }
        if (c == '@') {
            pos++;
            if (pos < src.length() && src.charAt(pos) == '"') {
                return new Token(Kind.SYMBOL, string(startLine, startCol), startLine, startCol);
            }
            String name = word(true);
            if (name.isEmpty()) throw error(startLine, startCol, "expected a name after '@'");
            return new Token(Kind.SYMBOL, name, startLine, startCol);
        }
        if (c == '"') return new Token(Kind.STRING, string(startLine, startCol), startLine, startCol);
        if (digit(c) || (c == '-' && pos + 1 < src.length()
                && (digit(src.charAt(pos + 1)) || src.startsWith("inf", pos + 1)))) {
            return number(startLine, startCol);
        }
        if (letter(c) || c == '_') {
            return new Token(Kind.IDENT, word(true), startLine, startCol);
        }
        if (PUNCT.indexOf(c) >= 0) {
            pos++;
            return new Token(Kind.PUNCT, String.valueOf(c), startLine, startCol);
        }
        throw error(startLine, startCol, "unexpected character '" + c + "'");
    }

    private void skipSpaceAndComments() {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c == '\n') {
                pos++;
                line++;
                lineStart = pos;
            } else if (c == ' ' || c == '\t' || c == '\r') {
                pos++;
            } else if (c == '/' && src.startsWith("//", pos)) {
                while (pos < src.length() && src.charAt(pos) != '\n') pos++;
            } else {
                return;
            }
        }
    }

    /** Letters, digits, '_' and (when {@code dots}) '.'. */
    private String word(boolean dots) {
        int start = pos;
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (!(letter(c) || digit(c) || c == '_' || dots && c == '.')) break;
            pos++;
        }
        return src.substring(start, pos);
    }

    private Token number(int startLine, int startCol) {
        int start = pos;
        if (src.charAt(pos) == '-') pos++;
        if (src.startsWith("inf", pos)) {
            pos += 3;
            return new Token(Kind.FLOAT, "-inf", startLine, startCol);
        }
        boolean isFloat = false;
        digits();
        if (pos < src.length() && src.charAt(pos) == '.') {
            isFloat = true;
            pos++;
            digits();
        }
        if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
            isFloat = true;
            pos++;
            if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) pos++;
            if (digits() == 0) throw error(startLine, startCol, "exponent of '" + src.substring(start, pos) + "' has no digits");
        }
        if (pos < src.length() && (letter(src.charAt(pos)) || src.charAt(pos) == '_')) {
            throw error(line, pos - lineStart + 1, "unexpected '" + src.charAt(pos) + "' after number '" + src.substring(start, pos) + "'");
        }
        return new Token(isFloat ? Kind.FLOAT : Kind.INT, src.substring(start, pos), startLine, startCol);
    }

    private int digits() {
        int start = pos;
        while (pos < src.length() && digit(src.charAt(pos))) pos++;
        return pos - start;
    }

    private String string(int startLine, int startCol) {
        pos++; // opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= src.length() || src.charAt(pos) == '\n') throw error(startLine, startCol, "unterminated string");
            char c = src.charAt(pos++);
            if (c == '"') return sb.toString();
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= src.length()) throw error(startLine, startCol, "unterminated string");
            char e = src.charAt(pos++);
            switch (e) {
                case '"', '\\' -> sb.append(e);
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'u' -> {
                    if (pos + 4 > src.length() || !src.substring(pos, pos + 4).matches("[0-9a-fA-F]{4}")) {
                        throw error(line, pos - lineStart - 1, "\\u must be followed by 4 hex digits");
                    }
                    sb.append((char) Integer.parseInt(src.substring(pos, pos + 4), 16));
                    pos += 4;
                }
                default -> throw error(line, pos - lineStart - 1, "unknown escape '\\" + e + "' in string");
            }
        }
    }

    private static boolean digit(char c) { return c >= '0' && c <= '9'; }

    private static boolean letter(char c) { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'; }

    private static ParseException error(int line, int column, String message) {
        return new ParseException(line, column, message);
    }
}
