package dev.kiln.ir;

import dev.kiln.ir.IrLexer.Kind;
import dev.kiln.ir.IrLexer.Token;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Parses an op's attribute dictionary {@code {name = value, ...}} against its schema: unknown
 * names, repeated names and values of the wrong kind fail at the offending token. The schema settles
 * ambiguous literals: {@code []} becomes ints or floats as the attribute declares.
 */
final class AttrParser {

    private final TokenCursor in;

    AttrParser(TokenCursor in) { this.in = in; }

    Map<String, Attribute> attributes(OpSchema schema) {
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        in.expectPunct('{');
        do {
            Token key = in.expect(Kind.IDENT, "an attribute name");
            AttrSpec spec = schema.attribute(key.text());
            if (spec == null) {
                throw in.error(key, schema.name() + ": unknown attribute '" + key.text() + "'; known: "
                        + schema.attributes().stream().map(AttrSpec::name).toList());
            }
            if (attrs.containsKey(key.text())) throw in.error(key, schema.name() + ": attribute '" + key.text() + "' is given twice");
            in.expectPunct('=');
            Token valueTok = in.peek();
            Attribute a = attrValue(spec);
            if (!spec.accepts(a)) {
                throw in.error(valueTok, schema.name() + ": attribute '" + key.text() + "' must be "
                        + spec.kinds().stream().map(k -> k.name().toLowerCase(Locale.ROOT)).sorted().toList()
                        + ", got " + a.kind().name().toLowerCase(Locale.ROOT));
            }
            attrs.put(key.text(), a);
        } while (in.acceptPunct(','));
        in.expectPunct('}');
        return attrs;
    }

    private Attribute attrValue(AttrSpec spec) {
        Token t = in.next();
        switch (t.kind()) {
            case INT -> {
                long v = in.parseLong(t);
                boolean floatOnly = spec.kinds().contains(AttrKind.FLOAT) && !spec.kinds().contains(AttrKind.INT);
                return floatOnly ? new Attribute.Float(v) : new Attribute.Int(v);
            }
            case FLOAT -> { return new Attribute.Float(in.parseDouble(t)); }
            case STRING -> { return new Attribute.Str(t.text()); }
            case IDENT -> {
                switch (t.text()) {
                    case "true": return new Attribute.Bool(true);
                    case "false": return new Attribute.Bool(false);
                    case "nan", "inf": return new Attribute.Float(in.parseDouble(t));
                    case "dense": return tensor();
                    default:
                        if (TokenCursor.isDType(t.text())) return new Attribute.DTypeAttr(DType.fromIrName(t.text()));
                }
            }
            case PUNCT -> {
                if (t.isPunct('[')) return list(spec);
            }
            default -> { }
        }
        throw in.error(t, "expected an attribute value (a number, true/false, a string, a [list], a dtype or dense<...>) but found "
                + t.describe());
    }

    private Attribute list(AttrSpec spec) {
        List<Token> elems = new ArrayList<>();
        boolean anyFloat = false, anySymbol = false;
        boolean symbolsOk = spec.kinds().contains(AttrKind.DIMS);
        if (!in.peek().isPunct(']')) {
            do {
                Token e = in.next();
                if (e.kind() == Kind.FLOAT || e.is(Kind.IDENT, "nan") || e.is(Kind.IDENT, "inf")) {
                    anyFloat = true;
                } else if (e.kind() == Kind.IDENT && symbolsOk) {
                    anySymbol = true;
                } else if (e.kind() == Kind.IDENT) {
                    throw in.error(e, "expected a number in the list but found " + e.describe()
                            + " (symbolic sizes are allowed only in size lists such as reshape's shape)");
                } else if (e.kind() != Kind.INT) {
                    throw in.error(e, "expected a number in the list but found " + e.describe());
                }
                elems.add(e);
            } while (in.acceptPunct(','));
        }
        in.expectPunct(']');
        if (anySymbol) {
            if (anyFloat) throw in.error(elems.get(0), "a size list cannot mix floats and symbols");
            long[] v = new long[elems.size()];
            String[] syms = new String[elems.size()];
            for (int i = 0; i < v.length; i++) {
                Token e = elems.get(i);
                if (e.kind() == Kind.IDENT) {
                    try {
                        new Dim.Symbolic(e.text());
                    } catch (IllegalArgumentException ex) {
                        throw in.error(e, ex.getMessage());
                    }
                    syms[i] = e.text();
                } else {
                    v[i] = in.parseLong(e);
                }
            }
            return new Attribute.Dims(v, syms);
        }
        boolean floatsOnly = spec.kinds().contains(AttrKind.FLOATS) && !spec.kinds().contains(AttrKind.INTS);
        if (anyFloat || floatsOnly) {
            double[] v = new double[elems.size()];
            for (int i = 0; i < v.length; i++) v[i] = in.parseDouble(elems.get(i));
            return new Attribute.Floats(v);
        }
        long[] v = new long[elems.size()];
        for (int i = 0; i < v.length; i++) v[i] = in.parseLong(elems.get(i));
        return new Attribute.Ints(v);
    }

    /** {@code dense<f32[2, 2]: [1.0, 2.0, 3.0, 4.0]>}, elements flat in row-major order. */
    private Attribute tensor() {
        in.expectPunct('<');
        Token typeTok = in.peek();
        Type type = in.type();
        if (!(type instanceof TensorType tt) || !tt.shape().isStatic()) {
            throw in.error(typeTok, "dense<...> needs a tensor type with a static shape, got " + type);
        }
        in.expectPunct(':');
        Token open = in.expectPunct('[');
        List<Token> elems = new ArrayList<>();
        if (!in.peek().isPunct(']')) {
            do {
                elems.add(in.next());
            } while (in.acceptPunct(','));
        }
        in.expectPunct(']');
        in.expectPunct('>');
        if (elems.size() != tt.shape().numel()) {
            throw in.error(open, "dense<" + tt + "> needs " + tt.shape().numel() + " elements, got " + elems.size());
        }
        return new Attribute.Tensor(tt, TensorLiteral.encode(tt.dtype(), elems, in::error));
    }
}
