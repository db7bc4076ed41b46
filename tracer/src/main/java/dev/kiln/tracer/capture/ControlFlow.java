package dev.kiln.tracer.capture;

import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.IincInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LineNumberNode;
import org.objectweb.asm.tree.LookupSwitchInsnNode;
import org.objectweb.asm.tree.TableSwitchInsnNode;
import org.objectweb.asm.tree.VarInsnNode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * The control-flow graph of one method at instruction granularity: successors (returns and throws
 * lead to a virtual exit node), post-dominators (to find where the arms of a branch meet again),
 * reachability (to tell a loop's back edge from an if), local-variable liveness (so that only the
 * locals still read after a merge point are merged) and the source line of each instruction.
 */
final class ControlFlow {

    private final int n;
    private final int exit;
    private final int[][] successors;
    private final BitSet[] postDominators;
    private final BitSet[] liveIn;
    private final int[] lines;

    ControlFlow(InsnList insns, int maxLocals) {
        n = insns.size();
        exit = n;
        successors = new int[n + 1][];
        lines = new int[n];
        int line = -1;
        for (int i = 0; i < n; i++) {
            AbstractInsnNode insn = insns.get(i);
            if (insn instanceof LineNumberNode ln) line = ln.line;
            lines[i] = line;
            successors[i] = successorsOf(insns, insn, i);
        }
        successors[exit] = new int[0];
        postDominators = computePostDominators();
        liveIn = computeLiveness(insns, maxLocals);
    }

    /** The virtual node every return and throw leads to. */
    int exit() { return exit; }

    int[] successors(int pc) { return successors[pc]; }

    /** The source line of instruction {@code pc}, or -1 if the class has no line table. */
    int line(int pc) { return pc >= 0 && pc < n ? lines[pc] : -1; }

    /** The nearest instruction (or {@link #exit()}) that every path from {@code pc} passes through. */
    int immediatePostDominator(int pc) {
        BitSet candidates = (BitSet) postDominators[pc].clone();
        candidates.clear(pc);
        int best = exit;
        int bestSize = -1;
        for (int d = candidates.nextSetBit(0); d >= 0; d = candidates.nextSetBit(d + 1)) {
            int size = postDominators[d].cardinality();
            if (size > bestSize) {
                best = d;
                bestSize = size;
            }
        }
        return best;
    }

    /** Whether {@code target} can be reached from {@code from} without passing through {@code avoid}. */
    boolean reachesAvoiding(int from, int target, int avoid) {
        if (from == avoid) return false;
        BitSet seen = new BitSet(n + 1);
        ArrayDeque<Integer> work = new ArrayDeque<>(List.of(from));
        seen.set(from);
        while (!work.isEmpty()) {
            int pc = work.pop();
            if (pc == target) return true;
            for (int s : successors[pc]) {
                if (s != avoid && !seen.get(s)) {
                    seen.set(s);
                    work.push(s);
                }
            }
        }
        return false;
    }

    /** Whether local slot {@code slot} may be read before being written, starting at {@code pc}. */
    boolean isLive(int slot, int pc) { return pc < n && liveIn[pc].get(slot); }

    private static int[] successorsOf(InsnList insns, AbstractInsnNode insn, int i) {
        int op = insn.getOpcode();
        if (insn instanceof JumpInsnNode j) {
            int target = insns.indexOf(j.label);
            return op == Opcodes.GOTO ? new int[] {target} : new int[] {target, i + 1};
        }
        if (insn instanceof TableSwitchInsnNode t) return switchTargets(insns, t.dflt, t.labels);
        if (insn instanceof LookupSwitchInsnNode l) return switchTargets(insns, l.dflt, l.labels);
        if (op >= Opcodes.IRETURN && op <= Opcodes.RETURN || op == Opcodes.ATHROW) return new int[] {insns.size()};
        return new int[] {i + 1};
    }

    private static int[] switchTargets(InsnList insns, LabelNode dflt, List<LabelNode> labels) {
        List<Integer> out = new ArrayList<>();
        out.add(insns.indexOf(dflt));
        for (LabelNode l : labels) out.add(insns.indexOf(l));
        return out.stream().distinct().mapToInt(Integer::intValue).toArray();
    }

    private BitSet[] computePostDominators() {
        BitSet[] pdom = new BitSet[n + 1];
        BitSet all = new BitSet(n + 1);
        all.set(0, n + 1);
        for (int i = 0; i < n; i++) pdom[i] = (BitSet) all.clone();
        pdom[exit] = new BitSet(n + 1);
        pdom[exit].set(exit);
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int i = n - 1; i >= 0; i--) {
                BitSet next = (BitSet) all.clone();
                for (int s : successors[i]) next.and(pdom[s]);
                next.set(i);
                if (!next.equals(pdom[i])) {
                    pdom[i] = next;
                    changed = true;
                }
            }
        }
        return pdom;
    }

    private BitSet[] computeLiveness(InsnList insns, int maxLocals) {
        BitSet[] in = new BitSet[n + 1];
        for (int i = 0; i <= n; i++) in[i] = new BitSet(maxLocals);
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int i = n - 1; i >= 0; i--) {
                BitSet out = new BitSet(maxLocals);
                for (int s : successors[i]) out.or(in[s]);
                AbstractInsnNode insn = insns.get(i);
                int op = insn.getOpcode();
                if (insn instanceof VarInsnNode v) {
                    if (op >= Opcodes.ISTORE && op <= Opcodes.ASTORE) {
                        out.clear(v.var);
                    } else {
                        out.set(v.var);
                    }
                } else if (insn instanceof IincInsnNode inc) {
                    out.set(inc.var);
                }
                if (!out.equals(in[i])) {
                    in[i] = out;
                    changed = true;
                }
            }
        }
        return in;
    }
}
