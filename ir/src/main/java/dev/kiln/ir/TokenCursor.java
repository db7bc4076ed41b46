package dev.kiln.ir;

import dev.kiln.ir.IrLexer.Kind;
import dev.kiln.ir.IrLexer.Token;

import java.util.ArrayList;
import java.util.List;

/**
 * A position in the token list of IR text, with the helpers both the graph parser and the
 * attribute parser need: lookahead, expectations that fail with line and column, numbers and types
 * ({@code f32[N, 784]}, {@code int}, {@code float}, {@code bool}).
 */
final class TokenCursor {

    private final List<Token> tokens;
    private int pos;

    TokenCursor(List<Token> tokens) { this.tokens = tokens; }

    Token peek() { return peek(0); }

    Token peek(int ahead) { return tokens.get(Math.min(pos + ahead, tokens.size() - 1)); }

    Token next() {
        Token t = peek();
        if (pos < tokens.size() - 1) pos++;
        return t;
    }

    Token expect(Kind kind, String what) {
        Token t = peek();
        if (t.kind() != kind) throw error(t, "expected " + what + " but found " + t.describe());
        return next();
    }

    Token expectPunct(char c) {
        Token t = peek();
        if (!t.isPunct(c)) throw error(t, "expected '" + c + "' but found " + t.describe());
        return next();
    }

    boolean acceptPunct(char c) {
        if (!peek().isPunct(c)) return false;
        next();
        return true;
    }

    long parseLong(Token t) {
        if (t.kind() != Kind.INT) throw error(t, "expected an integer but found " + t.describe());
        try {
            return Long.parseLong(t.text());
        } catch (NumberFormatException e) {
            throw error(t, "integer " + t.text() + " does not fit in 64 bits");
        }
    }

    double parseDouble(Token t) {
        return switch (t.text()) {
            case "nan" -> Double.NaN;
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            default -> {
                if (t.kind() != Kind.INT && t.kind() != Kind.FLOAT) throw error(t, "expected a number but found " + t.describe());
                yield Double.parseDouble(t.text());
            }
        };
    }

    /** A parse error at token {@code t}. */
    ParseException error(Token t, String message) {
        return new ParseException(t.line(), t.column(), message);
    }

    /** A tensor type {@code f32[N, 784]} or a scalar type {@code int}, {@code float}, {@code bool}. */
    Type type() {
        Token t = expect(Kind.IDENT, "a type like f32[N, 784] or int");
        if (!peek().isPunct('[')) {
            switch (t.text()) {
                case "int": return ScalarType.INT;
                case "float": return ScalarType.FLOAT;
                case "bool": return ScalarType.BOOL;
                default:
                    if (isDType(t.text())) throw error(peek(), "expected '[' and a shape after dtype " + t.text() + " but found " + peek().describe());
                    throw error(t, "unknown type '" + t.text() + "'; expected a dtype with a shape (f32[2, 3]) or int, float, bool");
            }
        }
        if (!isDType(t.text())) throw error(t, "unknown dtype '" + t.text() + "'; expected one of " + dtypeNames());
        DType dtype = DType.fromIrName(t.text());
        expectPunct('[');
        List<Dim> dims = new ArrayList<>();
        if (!peek().isPunct(']')) {
            do {
                dims.add(dim());
            } while (acceptPunct(','));
        }
        expectPunct(']');
        return new TensorType(dtype, new Shape(dims));
    }

    Dim dim() {
        Token t = next();
        if (t.kind() == Kind.INT) {
            long size = parseLong(t);
            if (size < 0) throw error(t, "dimension size must be >= 0, got " + size);
            return Dim.of(size);
        }
        if (t.kind() == Kind.IDENT) {
            if (!ValueNames.IDENTIFIER.matcher(t.text()).matches()) throw error(t, "symbolic dim '" + t.text() + "' must be an identifier");
            return Dim.sym(t.text());
        }
        if (t.isPunct('?')) return Dim.UNKNOWN;
        throw error(t, "expected a dimension (a size, a name like N, or ?) but found " + t.describe());
    }

    static boolean isDType(String s) {
        for (DType d : DType.values()) if (d.irName().equals(s)) return true;
        return false;
    }

    private static List<String> dtypeNames() {
        return java.util.Arrays.stream(DType.values()).map(DType::irName).toList();
    }
}
