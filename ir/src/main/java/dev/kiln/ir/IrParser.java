package dev.kiln.ir;

import dev.kiln.ir.IrLexer.Kind;
import dev.kiln.ir.IrLexer.Token;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the IR text form written by {@link IrPrinter} back into a {@link Graph}. Ops are built
 * through the registry, so operand, attribute and shape checks run while parsing; any problem is a
 * {@link ParseException} with the line and column of the offending token.
 *
 * <p>Names resolve lexically: a region sees the values defined before its op in enclosing blocks,
 * and a name may be defined only once per graph. Non-numeric names become the values' name hints.
 * Ops with regions take their printed result types; the verifier checks them against the regions.
 */
public final class IrParser {

    private final TokenCursor in;
    private final AttrParser attrParser;
    private Graph graph;
    /** Values in scope at this point, by name (without '%'). */
    private final Map<String, Value> visible = new HashMap<>();
    /** Where each name was defined, for duplicate and out-of-scope messages. */
    private final Map<String, Token> definedAt = new HashMap<>();
    /** Names defined per open block, removed from {@link #visible} when the block closes. */
    private final Deque<List<String>> scopes = new ArrayDeque<>();

    private IrParser(List<Token> tokens) {
        this.in = new TokenCursor(tokens);
        this.attrParser = new AttrParser(in);
    }

    /** Parses one graph; throws {@link ParseException} naming the line and column of the first problem. */
    public static Graph parse(String text) {
        return new IrParser(IrLexer.tokenize(text)).graph();
    }

    private Graph graph() {
        Token kw = in.expect(Kind.IDENT, "'graph'");
        if (!kw.text().equals("graph")) throw in.error(kw, "expected 'graph' but found " + kw.describe());
        Token name = in.expect(Kind.SYMBOL, "a graph name like @model");
        try {
            graph = new Graph(name.text());
        } catch (IllegalArgumentException e) {
            throw in.error(name, e.getMessage());
        }
        scopes.push(new ArrayList<>());
        in.expectPunct('(');
        if (!in.peek().isPunct(')')) {
            do {
                Token v = in.expect(Kind.VALUE, "an input like %x");
                checkFresh(v);
                in.expectPunct(':');
                bind(v, graph.addInput(hint(v), in.type()));
            } while (in.acceptPunct(','));
        }
        in.expectPunct(')');
        if (in.peek().is(Kind.IDENT, "weights")) weights();
        Token open = in.expectPunct('{');
        blockOps(graph.body(), open);
        in.expectPunct('}');
        Token end = in.peek();
        if (end.kind() != Kind.EOF) throw in.error(end, "expected end of input after the graph's closing '}' but found " + end.describe());
        return graph;
    }

    private void weights() {
        in.next();
        in.expectPunct('(');
        if (!in.peek().isPunct(')')) {
            do {
                Token w = in.expect(Kind.SYMBOL, "a weight like @fc.weight");
                if (graph.weights().containsKey(w.text())) throw in.error(w, "duplicate weight @" + w.text());
                in.expectPunct(':');
                Token typeTok = in.peek();
                Type t = in.type();
                if (!(t instanceof TensorType tensor)) throw in.error(typeTok, "weight @" + w.text() + " must have a tensor type, got " + t);
                graph.addWeight(w.text(), tensor);
            } while (in.acceptPunct(','));
        }
        in.expectPunct(')');
    }

    private void blockOps(Block block, Token open) {
        while (!in.peek().isPunct('}')) {
            if (in.peek().kind() == Kind.EOF) {
                throw in.error(in.peek(), "expected '}' to close the block opened at line " + open.line() + ", column "
                        + open.column() + " but found end of input");
            }
            op(block);
        }
    }

    private void op(Block block) {
        List<Token> resultNames = new ArrayList<>();
        if (in.peek().kind() == Kind.VALUE) {
            do {
                Token r = in.expect(Kind.VALUE, "a result name like %0");
                checkFresh(r);
                for (Token other : resultNames) {
                    if (other.text().equals(r.text())) throw in.error(r, "duplicate definition of %" + r.text() + " in the same op");
                }
                resultNames.add(r);
            } while (in.acceptPunct(','));
            in.expectPunct('=');
        }
        Token nameTok = in.expect(Kind.IDENT, "an op name");
        String name = nameTok.text();
        if (!OpRegistry.contains(name)) throw in.error(nameTok, "unknown op '" + name + "'");
        OpSchema schema = OpRegistry.get(name);
        in.expectPunct('(');
        List<Value> operands = new ArrayList<>();
        if (!in.peek().isPunct(')')) {
            do {
                operands.add(operand());
            } while (in.acceptPunct(','));
        }
        in.expectPunct(')');
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        if (in.peek().isPunct('{') && in.peek(1).kind() == Kind.IDENT && in.peek(2).isPunct('=')) attrs = attrParser.attributes(schema);
        List<Token> typeToks = new ArrayList<>();
        List<Type> types = new ArrayList<>();
        if (!resultNames.isEmpty() && !in.peek().isPunct(':')) {
            throw in.error(in.peek(), "expected ':' and the result types of " + name + " but found " + in.peek().describe());
        }
        if (in.acceptPunct(':')) {
            do {
                typeToks.add(in.peek());
                types.add(in.type());
            } while (in.acceptPunct(','));
        }
        if (types.size() != resultNames.size()) {
            throw in.error(nameTok, name + ": " + resultNames.size() + " result names but " + types.size() + " result types");
        }
        Op op = build(block, nameTok, schema, operands, attrs, types);
        if (schema.regionCount() == 0) {
            if (op.results().size() != resultNames.size()) {
                throw in.error(nameTok, name + " has " + op.results().size() + " result(s) but " + resultNames.size() + " are named");
            }
            for (int i = 0; i < types.size(); i++) {
                Type inferred = op.results().get(i).type();
                if (!types.get(i).equals(inferred)) {
                    throw in.error(typeToks.get(i), name + ": result " + i + " is written as " + types.get(i)
                            + " but its type is inferred as " + inferred);
                }
            }
        }
        for (Block region : op.regions()) region(region);
        if (in.peek().isPunct('{')) {
            throw in.error(in.peek(), name + " has " + schema.regionCount() + " region(s) but another '{' follows");
        }
        for (int i = 0; i < resultNames.size(); i++) bind(resultNames.get(i), op.results().get(i));
    }

    private Op build(Block block, Token nameTok, OpSchema schema, List<Value> operands,
                     Map<String, Attribute> attrs, List<Type> types) {
        try {
            Builder b = Builder.atEnd(block);
            return schema.regionCount() > 0
                    ? b.createWithResultTypes(schema.name(), operands, attrs, types)
                    : b.create(schema.name(), operands, attrs);
        } catch (RuntimeException e) {
            String message = String.valueOf(e.getMessage());
            throw in.error(nameTok, message.startsWith(schema.name() + ": ") ? message : schema.name() + ": " + message);
        }
    }

    private void region(Block block) {
        Token open = in.expectPunct('{');
        scopes.push(new ArrayList<>());
        if (in.acceptPunct('^')) {
            in.expectPunct('(');
            if (!in.peek().isPunct(')')) {
                do {
                    Token v = in.expect(Kind.VALUE, "a block argument like %i");
                    checkFresh(v);
                    in.expectPunct(':');
                    bind(v, block.addArgument(in.type(), hint(v)));
                } while (in.acceptPunct(','));
            }
            in.expectPunct(')');
            in.expectPunct(':');
        }
        blockOps(block, open);
        in.expectPunct('}');
        for (String n : scopes.pop()) visible.remove(n);
    }

    private Value operand() {
        Token t = in.next();
        if (t.kind() == Kind.VALUE) {
            Value v = visible.get(t.text());
            if (v != null) return v;
            Token def = definedAt.get(t.text());
            if (def != null) {
                throw in.error(t, "%" + t.text() + " is not visible here: it is defined at line " + def.line()
                        + " inside a region that does not enclose this use");
            }
            throw in.error(t, "undefined value %" + t.text());
        }
        if (t.kind() == Kind.SYMBOL) {
            Value w = graph.weights().get(t.text());
            if (w == null) throw in.error(t, "undefined weight @" + t.text() + "; declare it in the graph's weights(...)");
            return w;
        }
        throw in.error(t, "expected an operand (%value or @weight) but found " + t.describe());
    }

    private void checkFresh(Token v) {
        Token first = definedAt.get(v.text());
        if (first != null) {
            throw in.error(v, "duplicate definition of %" + v.text() + " (first defined at line " + first.line()
                    + ", column " + first.column() + ")");
        }
    }

    private void bind(Token name, Value v) {
        visible.put(name.text(), v);
        definedAt.put(name.text(), name);
        scopes.peek().add(name.text());
        if (hint(name) != null) v.setName(name.text());
    }

    private static String hint(Token v) {
        return v.text().chars().allMatch(Character::isDigit) ? null : v.text();
    }
}
