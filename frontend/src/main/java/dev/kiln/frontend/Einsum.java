package dev.kiln.frontend;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code einsum} for one or two operands without repeated subscripts in one operand: each letter is
 * a batch dim (in both operands and the output), a contracted dim (in both, not the output), or
 * belongs to one operand (summed away first unless it is in the output). The product runs as one
 * batched matmul. Diagonals and ellipses are reported as unsupported.
 */
final class Einsum {

    private Einsum() {}

    static Tensor evaluate(String equation, Tensor... operands) {
        String eq = equation.replace(" ", "");
        if (eq.contains(".")) throw unsupported(equation, "ellipsis ('...')");
        String[] sides = eq.split("->", -1);
        String[] inputs = sides[0].split(",", -1);
        if (inputs.length != operands.length) {
            throw new IllegalArgumentException("einsum '" + equation + "': " + inputs.length + " subscripts for " + operands.length + " operands");
        }
        if (inputs.length > 2) throw unsupported(equation, "more than two operands");
        Map<Character, Long> sizes = new HashMap<>();
        for (int i = 0; i < inputs.length; i++) checkSubscripts(equation, inputs[i], operands[i], sizes);
        String output = sides.length > 1 ? sides[1] : implicitOutput(inputs);
        for (char c : output.toCharArray()) {
            if (!sizes.containsKey(c)) throw new IllegalArgumentException("einsum '" + equation + "': output subscript '" + c + "' is not in any input");
        }
        if (operands.length == 1) return single(inputs[0], operands[0], output);
        return pair(inputs[0], operands[0], inputs[1], operands[1], output, sizes);
    }

    private static Tensor single(String in, Tensor x, String out) {
        Tensor summed = sumAway(in, x, out, "");
        String remaining = keep(in, out + "");
        return summed.permute(permutation(remaining, out));
    }

    private static Tensor pair(String a, Tensor x, String b, Tensor y, String out, Map<Character, Long> sizes) {
        x = sumAway(a, x, out, b);
        y = sumAway(b, y, out, a);
        a = keep(a, out + b);
        b = keep(b, out + a);
        StringBuilder batch = new StringBuilder(), contracted = new StringBuilder(), aOnly = new StringBuilder(), bOnly = new StringBuilder();
        for (char c : a.toCharArray()) {
            if (b.indexOf(c) >= 0) (out.indexOf(c) >= 0 ? batch : contracted).append(c);
            else aOnly.append(c);
        }
        for (char c : b.toCharArray()) if (a.indexOf(c) < 0) bOnly.append(c);
        String aOrder = "" + batch + aOnly + contracted, bOrder = "" + batch + contracted + bOnly;
        long bs = product(batch, sizes), m = product(aOnly, sizes), k = product(contracted, sizes), n = product(bOnly, sizes);
        Tensor left = x.permute(permutation(a, aOrder)).reshape(bs, m, k);
        Tensor right = y.permute(permutation(b, bOrder)).reshape(bs, k, n);
        String resultOrder = "" + batch + aOnly + bOnly;
        long[] resultShape = resultOrder.chars().mapToLong(c -> sizes.get((char) c)).toArray();
        return left.matmul(right).reshape(resultShape).permute(permutation(resultOrder, out));
    }

    /** Sums the letters of {@code in} that appear neither in {@code out} nor in {@code other}. */
    private static Tensor sumAway(String in, Tensor x, String out, String other) {
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < in.length(); i++) {
            char c = in.charAt(i);
            if (out.indexOf(c) < 0 && other.indexOf(c) < 0) axes.add(i);
        }
        return axes.isEmpty() ? x : x.sum(axes.stream().mapToInt(Integer::intValue).toArray(), false);
    }

    private static String keep(String in, String wanted) {
        StringBuilder sb = new StringBuilder();
        for (char c : in.toCharArray()) if (wanted.indexOf(c) >= 0) sb.append(c);
        return sb.toString();
    }

    private static int[] permutation(String from, String to) {
        int[] perm = new int[to.length()];
        for (int i = 0; i < perm.length; i++) perm[i] = from.indexOf(to.charAt(i));
        return perm;
    }

    private static long product(CharSequence letters, Map<Character, Long> sizes) {
        long p = 1;
        for (int i = 0; i < letters.length(); i++) p *= sizes.get(letters.charAt(i));
        return p;
    }

    private static void checkSubscripts(String equation, String subscripts, Tensor t, Map<Character, Long> sizes) {
        if (subscripts.length() != t.rank()) {
            throw new IllegalArgumentException("einsum '" + equation + "': subscripts '" + subscripts + "' for an operand of rank " + t.rank());
        }
        for (int i = 0; i < subscripts.length(); i++) {
            char c = subscripts.charAt(i);
            if (!Character.isLetter(c)) throw new IllegalArgumentException("einsum '" + equation + "': invalid subscript '" + c + "'");
            if (subscripts.indexOf(c) != i) throw unsupported(equation, "a repeated subscript in one operand ('" + c + "', a diagonal)");
            Long previous = sizes.putIfAbsent(c, t.dim(i));
            if (previous != null && previous != t.dim(i)) {
                throw new IllegalArgumentException("einsum '" + equation + "': subscript '" + c + "' has sizes " + previous + " and " + t.dim(i));
            }
        }
    }

    private static String implicitOutput(String[] inputs) {
        Map<Character, Integer> counts = new java.util.TreeMap<>();
        for (String in : inputs) for (char c : in.toCharArray()) counts.merge(c, 1, Integer::sum);
        StringBuilder sb = new StringBuilder();
        counts.forEach((c, n) -> { if (n == 1) sb.append(c); });
        return sb.toString();
    }

    private static UnsupportedOperationException unsupported(String equation, String what) {
        return new UnsupportedOperationException("einsum '" + equation + "': " + what + " is not supported");
    }
}
