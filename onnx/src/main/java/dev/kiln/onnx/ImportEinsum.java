package dev.kiln.onnx;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.List;

/**
 * ONNX Einsum decomposed into registry ops: each operand is permuted into one global letter order
 * with size-1 dims for letters it lacks, the operands are multiplied with broadcasting, and the
 * letters missing from the output are summed away. Repeated letters in one operand (diagonals) are
 * not supported.
 */
final class ImportEinsum {

    private ImportEinsum() {}

    static Value convert(ImportNode n) {
        String eq = n.attrString("equation", null);
        if (eq == null) throw n.error("attribute 'equation' is required");
        eq = eq.replace(" ", "");
        String[] sides = eq.split("->", -1);
        String[] terms = sides[0].split(",", -1);
        if (terms.length != n.inputCount()) throw n.error("equation '" + eq + "' has " + terms.length + " operands but the node has " + n.inputCount());
        int ellipsisRank = 0;
        for (int i = 0; i < terms.length; i++) {
            if (terms[i].contains("...")) ellipsisRank = Math.max(ellipsisRank, n.type(i).rank() - (terms[i].length() - 3));
        }
        List<List<Character>> letters = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) letters.add(expand(terms[i], n.type(i).rank(), ellipsisRank, n));
        List<Character> output;
        if (sides.length == 2) {
            output = expand(sides[1], -1, ellipsisRank, n);
        } else {
            output = new ArrayList<>();
            for (int e = 0; e < ellipsisRank; e++) output.add((char) ('\u0100' + e));
            List<Character> once = new ArrayList<>();
            for (List<Character> l : letters) for (char c : l) if (c < '\u0100') once.add(c);
            once.stream().filter(c -> java.util.Collections.frequency(once, c) == 1).sorted().forEach(output::add);
        }
        List<Character> order = new ArrayList<>(output);
        for (List<Character> l : letters) for (char c : l) if (!order.contains(c)) order.add(c);
        Value product = null;
        for (int i = 0; i < terms.length; i++) {
            List<Character> l = letters.get(i);
            for (char c : l) if (l.indexOf(c) != l.lastIndexOf(c)) throw n.unsupported("Einsum with a repeated index in one operand ('" + terms[i] + "')");
            Value x = n.in(i);
            List<Character> present = order.stream().filter(l::contains).toList();
            long[] perm = present.stream().mapToLong(l::indexOf).toArray();
            boolean identity = true;
            for (int k = 0; k < perm.length; k++) identity &= perm[k] == k;
            if (!identity) x = n.op("permute", Builder.attrs("perm", perm), x);
            List<Dim> dims = new ArrayList<>();
            List<Dim> have = n.type(x).shape().dims();
            for (char c : order) dims.add(present.contains(c) ? have.get(present.indexOf(c)) : Dim.of(1));
            x = n.reshape(x, dims);
            product = product == null ? x : n.op("mul", product, x);
        }
        DType d = n.type(product).dtype();
        if (order.size() > output.size()) {
            long[] axes = new long[order.size() - output.size()];
            for (int k = 0; k < axes.length; k++) axes[k] = output.size() + k;
            product = n.cast(n.op("sum", Builder.attrs("axes", axes, "keepdim", false), product), d);
        }
        return product;
    }

    /** The letters of one term, "..." replaced by placeholder letters for the broadcast dims it covers. */
    private static List<Character> expand(String term, int rank, int ellipsisRank, ImportNode n) {
        List<Character> out = new ArrayList<>();
        int at = term.indexOf("...");
        String plain = term.replace("...", "");
        for (char c : plain.toCharArray()) if (!Character.isLetter(c)) throw n.error("invalid Einsum term '" + term + "'");
        int covered = at < 0 ? 0 : rank < 0 ? ellipsisRank : rank - plain.length();
        if (rank >= 0 && at < 0 && plain.length() != rank) throw n.error("term '" + term + "' does not match operand rank " + rank);
        for (int i = 0; i < term.length(); ) {
            if (i == at) {
                for (int e = ellipsisRank - covered; e < ellipsisRank; e++) out.add((char) ('\u0100' + e));
                i += 3;
            } else {
                out.add(term.charAt(i++));
            }
        }
        return out;
    }
}
