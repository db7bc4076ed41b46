package dev.kiln.tracer.capture;

import dev.kiln.frontend.Tensor;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Block;
import dev.kiln.ir.Op;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Type;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Structures a branch on a symbolic condition. If neither edge leads back to the branch, it is an
 * if/else: both arms run from their edge to the branch's immediate post-dominator (the merge point;
 * the method exit when the arms return), into the then/else regions of an {@code if} op, which yields
 * the live locals and stack slots that differ. If one edge leads back, it is a loop: a {@code loop} op
 * whose body runs that edge around to the branch again, carrying the locals the body changes.
 *
 * <p>Which slots to yield or carry, and their types, are found by a dry run into a scratch op that is
 * then discarded; the real region is filled by a second run (region ops' result types are fixed when
 * the op is built).
 */
final class Regions {

    private Regions() {}

    /**
     * A slot of the state: a local, an operand-stack entry, or the method's return value; or, with a
     * non-empty {@code path}, a component (of a component ...) of the {@link SymRecord} held there.
     */
    private record Slot(int local, int stack, String description, List<Integer> path) {
        static final Slot RETURN = new Slot(-1, -1, "the returned value", List.of());

        Slot(int local, int stack, String description) { this(local, stack, description, List.of()); }

        boolean isReturn() { return local < 0 && stack < 0; }

        /** The slot of component {@code i} of the record this slot holds. */
        Slot component(SymRecord r, int i) {
            List<Integer> p = new ArrayList<>(path);
            p.add(i);
            return new Slot(local, stack, "component '" + r.componentName(i) + "' of " + r + " in " + description, List.copyOf(p));
        }

        private Object root(Frame.Outcome o) {
            if (isReturn()) return o.value();
            return local >= 0 ? o.state().locals[local] : o.state().stack.get(stack);
        }

        Object get(Frame.Outcome o) {
            Object v = root(o);
            for (int i : path) v = ((SymRecord) v).value(i);
            return v;
        }

        /** {@code root} with the value at this slot's path replaced by {@code v}. */
        Object replaceIn(Object root, Object v) { return replace(root, 0, v); }

        private Object replace(Object at, int depth, Object v) {
            if (depth == path.size()) return v;
            SymRecord r = (SymRecord) at;
            int i = path.get(depth);
            return r.with(i, replace(r.value(i), depth + 1, v));
        }

        void set(State s, Object v) {
            if (local >= 0) s.locals[local] = replaceIn(s.locals[local], v);
            else s.stack.set(stack, replaceIn(s.stack.get(stack), v));
        }
    }

    /**
     * Which slots to yield or carry, their IR types, and what each holds: {@code 'T'} a tensor,
     * {@code 'S'} an item() value kept a tensor ({@link SymScalar}), or a host scalar of JVM type
     * {@code 'I'}, {@code 'J'} or {@code 'D'} ({@link HostScalar}).
     */
    private record Plan(List<Slot> slots, List<Type> types, List<Character> kinds) {}

    /** The symbolic value a region result of kind {@code kind} stands for after the region. */
    private static Object symbolic(CaptureContext ctx, Value v, char kind) {
        return switch (kind) {
            case 'T' -> ctx.exampleFor(v);
            case 'S' -> new SymScalar(ctx.exampleFor(v));
            default -> new HostScalar(v, kind);
        };
    }

    /** The IR value of a slot's content as kind {@code kind}, emitting conversions in the current region. */
    private static Value valueOf(CaptureContext ctx, Object v, char kind) {
        return kind == 'T' || kind == 'S' ? valueOf(ctx, v) : Host.value(ctx, v, kind);
    }

    static Frame.Outcome branch(Frame f, int pc, int jumpTarget, Object cond, State s, int stop, int forbidden) {
        ControlFlow cfg = f.code.cfg;
        int merge = cfg.immediatePostDominator(pc);
        boolean jumpLoops = cfg.reachesAvoiding(jumpTarget, pc, merge);
        boolean fallLoops = cfg.reachesAvoiding(pc + 1, pc, merge);
        if (jumpLoops && fallLoops) throw f.unsupported("data-dependent branches whose both edges loop back");
        if (jumpLoops || fallLoops) {
            if (!f.activeLoops.add(pc)) {
                throw f.unsupported("break statements in data-dependent loops (a data-dependent loop with a second, "
                        + "data-dependent exit)");
            }
            try {
                return loop(f, pc, jumpTarget, cond, s, jumpLoops, merge);
            } finally {
                f.activeLoops.remove(pc);
            }
        }
        Frame.Outcome o = ifElse(f, pc, jumpTarget, cond, s, merge, forbidden);
        if (o.returned() && stop >= 0 && stop != cfg.exit()) {
            throw f.unsupported("return statements inside a data-dependent branch nested in another one");
        }
        return o;
    }

    // ---- if/else ----------------------------------------------------------------------------------

    private static Frame.Outcome ifElse(Frame f, int pc, int jumpTarget, Object cond, State s, int merge, int forbidden) {
        CaptureContext ctx = f.ctx;
        Value c = Host.condition(ctx, cond, false);
        // The then region is the fall-through edge: for `if (a > b) {...}` javac jumps on the negation.
        Op scratch = ctx.scratchIf(c);
        Plan plan;
        try {
            Frame.Outcome t = arm(f, scratch.region(0), pc + 1, s.copy(), merge, forbidden, null);
            Frame.Outcome e = arm(f, scratch.region(1), jumpTarget, s.copy(), merge, forbidden, null);
            f.moveTo(pc);
            plan = plan(f, t, e, merge);
        } finally {
            ctx.discard(scratch);
            ctx.irTypes.clear();
        }
        Op ifOp = ctx.recorder.builder().ifOp(c, plan.types());
        Frame.Outcome t = arm(f, ifOp.region(0), pc + 1, s.copy(), merge, forbidden, plan);
        arm(f, ifOp.region(1), jumpTarget, s.copy(), merge, forbidden, plan);
        List<Object> merged = new ArrayList<>();
        for (int i = 0; i < plan.slots().size(); i++) merged.add(symbolic(ctx, ifOp.results().get(i), plan.kinds().get(i)));
        if (merge == f.code.cfg.exit()) {
            Object ret = t.value();
            for (int i = 0; i < plan.slots().size(); i++) ret = plan.slots().get(i).replaceIn(ret, merged.get(i));
            return Frame.Outcome.ret(ret);
        }
        State out = t.state();
        for (int i = 0; i < out.locals.length; i++) if (!f.code.cfg.isLive(i, merge)) out.locals[i] = State.TOP;
        for (int i = 0; i < plan.slots().size(); i++) plan.slots().get(i).set(out, merged.get(i));
        return Frame.Outcome.at(merge, out);
    }

    private static Frame.Outcome arm(Frame f, Block region, int start, State s, int merge, int forbidden, Plan plan) {
        f.ctx.enterRegion(region);
        try {
            Frame.Outcome o = f.run(start, s, merge, forbidden);
            if (o.returned() != (merge == f.code.cfg.exit())) {
                throw f.unsupported("return statements in only one arm of a data-dependent branch");
            }
            if (plan == null) recordIrTypes(f.ctx, o);
            if (plan != null) {
                List<Value> values = new ArrayList<>();
                for (int i = 0; i < plan.slots().size(); i++) {
                    Value v = valueOf(f.ctx, plan.slots().get(i).get(o), plan.kinds().get(i));
                    if (!v.type().equals(plan.types().get(i))) throw f.error("internal: arm types changed between runs");
                    values.add(v);
                }
                f.ctx.recorder.builder().yield(values.toArray(Value[]::new));
            }
            return o;
        } finally {
            f.ctx.exitRegion();
        }
    }

    /**
     * Notes the IR type of every tensor an arm leaves in its locals, stack or return value, while its
     * region is still open: with symbolic input dims these differ from the example tensors' shapes.
     */
    private static void recordIrTypes(CaptureContext ctx, Frame.Outcome o) {
        List<Object> slots = new ArrayList<>();
        if (o.returned()) slots.add(o.value());
        else {
            slots.addAll(java.util.Arrays.asList(o.state().locals));
            slots.addAll(o.state().stack);
        }
        for (int i = 0; i < slots.size(); i++) {
            Object v = slots.get(i);
            if (v instanceof SymRecord r) slots.addAll(r.values());
            Tensor t = v instanceof Tensor x ? x : v instanceof SymScalar sv ? sv.tensor() : null;
            if (t != null) ctx.irTypes.put(t, valueOf(ctx, t).type());
        }
    }

    private static Plan plan(Frame f, Frame.Outcome t, Frame.Outcome e, int merge) {
        Plan plan = new Plan(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        if (merge == f.code.cfg.exit()) {
            decide(f, plan, Slot.RETURN, t, e, "in the two arms of a data-dependent branch");
            return plan;
        }
        for (int i = 0; i < t.state().locals.length; i++) {
            if (!f.code.cfg.isLive(i, merge)) continue;
            decide(f, plan, new Slot(i, -1, "local variable '" + f.code.localName(i, merge) + "'"), t, e,
                    "in the two arms of a data-dependent branch");
        }
        if (t.state().stack.size() != e.state().stack.size()) throw f.error("internal: operand stacks differ at a merge point");
        for (int i = 0; i < t.state().stack.size(); i++) {
            decide(f, plan, new Slot(-1, i, "the value of a conditional expression (?:)"), t, e,
                    "in the two arms of a data-dependent branch");
        }
        return plan;
    }

    /** Adds {@code slot} to the plan if the two outcomes hold different symbolic values there; rejects mixes. */
    private static void decide(Frame f, Plan plan, Slot slot, Frame.Outcome x, Frame.Outcome y, String where) {
        Object a = slot.get(x), b = slot.get(y);
        if (a == b) return;
        if (a instanceof SymRecord ra && b instanceof SymRecord rb && ra.type == rb.type) {
            for (int i = 0; i < ra.size(); i++) decide(f, plan, slot.component(ra, i), x, y, where);
            return;
        }
        if (a instanceof Tensor ta && b instanceof Tensor tb) {
            Type ty = irType(f, ta), tz = irType(f, tb);
            if (!ty.equals(tz)) {
                throw f.error(slot.description() + " is a tensor of type " + ty + " and of type " + tz + " " + where
                        + "; merging different shapes or dtypes is not supported in @Compile methods yet");
            }
            add(plan, slot, ty, 'T');
            return;
        }
        if (a instanceof SymScalar sa && b instanceof SymScalar sb && irType(f, sa.tensor()).equals(irType(f, sb.tensor()))) {
            add(plan, slot, irType(f, sa.tensor()), 'S');
            return;
        }
        if (!isSymbolic(a) && !isSymbolic(b) && a != State.TOP && b != State.TOP && Objects.equals(a, b)) return;
        char kind = Host.kindOf(a);
        if (kind != 0 && kind == Host.kindOf(b)) {
            add(plan, slot, Host.typeOf(kind), kind);
            return;
        }
        throw f.error(slot.description() + " holds " + show(a) + " and " + show(b) + " " + where
                + "; only tensors (of the same type) and Java int, long, double and boolean values (of the same type) "
                + "may differ there");
    }

    private static void add(Plan plan, Slot slot, Type type, char kind) {
        plan.slots().add(slot);
        plan.types().add(type);
        plan.kinds().add(kind);
    }

    // ---- loops ------------------------------------------------------------------------------------

    private static Frame.Outcome loop(Frame f, int pc, int jumpTarget, Object cond, State s, boolean bodyIsJump, int merge) {
        CaptureContext ctx = f.ctx;
        int body = bodyIsJump ? jumpTarget : pc + 1;
        int exitPc = bodyIsJump ? pc + 1 : jumpTarget;
        int jumpOp = f.code.insn(pc).getOpcode();
        Value c0 = Host.condition(ctx, cond, bodyIsJump);
        List<Slot> carried = new ArrayList<>();
        List<Character> kinds = new ArrayList<>();
        // Dry runs find the slots the body changes. A Java number that is concrete on entry but changes
        // (a counter) is carried as a host scalar; since a symbolic counter can change what else the body
        // does, the body runs again with such slots symbolic until the carried set is stable.
        List<Slot> promoted = new ArrayList<>();
        List<Character> promotedKinds = new ArrayList<>();
        Frame.Outcome entry = Frame.Outcome.at(pc, s);
        for (int round = 0; ; round++) {
            carried.clear();
            kinds.clear();
            Op scratch = ctx.scratchIf(c0);
            ctx.enterRegion(scratch.region(0));
            try {
                State dry = s.copy();
                for (int k = 0; k < promoted.size(); k++) {
                    char kind = promotedKinds.get(k);
                    promoted.get(k).set(dry, new HostScalar(Host.value(ctx, promoted.get(k).get(entry), kind), kind));
                }
                State end = runBody(f, body, dry.copy(), pc, merge, jumpOp).state();
                f.moveTo(pc);
                changed(f, dry, end, pc, carried, kinds);
            } finally {
                ctx.exitRegion();
                ctx.discard(scratch);
            }
            for (int k = 0; k < promoted.size(); k++) {
                if (!carried.contains(promoted.get(k))) {
                    carried.add(promoted.get(k));
                    kinds.add(promotedKinds.get(k));
                }
            }
            boolean stable = true;
            for (int k = 0; k < carried.size(); k++) {
                char kind = kinds.get(k);
                if (kind != 'T' && kind != 'S' && !(carried.get(k).get(entry) instanceof HostScalar) && !promoted.contains(carried.get(k))) {
                    promoted.add(carried.get(k));
                    promotedKinds.add(kind);
                    stable = false;
                }
            }
            if (stable) break;
            if (round >= 8) throw f.error("the Java values a data-dependent loop changes do not settle after " + round + " dry runs");
        }
        List<Value> init = new ArrayList<>();
        for (int k = 0; k < carried.size(); k++) init.add(valueOf(ctx, carried.get(k).get(entry), kinds.get(k)));
        Value trip = ctx.recorder.builder().constant(Attribute.of(Long.MAX_VALUE));
        Op loop = ctx.recorder.builder().loop(trip, c0, init);
        State in = s.copy();
        ctx.enterRegion(loop.region(0));
        try {
            for (int k = 0; k < carried.size(); k++) carried.get(k).set(in, symbolic(ctx, loop.region(0).argument(k + 1), kinds.get(k)));
            Frame.Outcome o = runBody(f, body, in.copy(), pc, merge, jumpOp);
            List<Slot> again = new ArrayList<>();
            changed(f, in, o.state(), pc, again, new ArrayList<>());
            for (Slot slot : again) {
                if (!carried.contains(slot)) {
                    throw f.error("internal: a data-dependent loop changes " + slot.description() + " only when its carried values are symbolic");
                }
            }
            List<Value> yields = new ArrayList<>();
            yields.add(o.value() instanceof Boolean b ? ctx.recorder.builder().constant(Attribute.of(b == bodyIsJump))
                    : Host.condition(ctx, o.value(), bodyIsJump));
            for (int k = 0; k < carried.size(); k++) {
                Value v = valueOf(ctx, carried.get(k).get(Frame.Outcome.at(pc, o.state())), kinds.get(k));
                if (!v.type().equals(init.get(k).type())) {
                    throw f.error(carried.get(k).description() + " changes type from " + init.get(k).type() + " to " + v.type()
                            + " in one iteration of a data-dependent loop; a loop-carried tensor must keep its shape and dtype");
                }
                yields.add(v);
            }
            ctx.recorder.builder().yield(yields.toArray(Value[]::new));
        } finally {
            ctx.exitRegion();
        }
        State after = s.copy();
        for (int k = 0; k < carried.size(); k++) carried.get(k).set(after, symbolic(ctx, loop.results().get(k), kinds.get(k)));
        return Frame.Outcome.at(exitPc, after);
    }

    /** Runs one iteration: the body, then the loop header up to the branch, whose condition it evaluates (the outcome's value). */
    private static Frame.Outcome runBody(Frame f, int body, State s, int branchPc, int exit, int jumpOp) {
        Frame.Outcome o = f.run(body, s, branchPc, exit);
        if (o.returned()) throw f.unsupported("return statements inside data-dependent loops");
        Object cond = Branches.condition(f, jumpOp, o.state());
        return new Frame.Outcome(o.state(), branchPc, false, cond);
    }

    private static void changed(Frame f, State before, State after, int pc, List<Slot> carried, List<Character> kinds) {
        List<Slot> slots = new ArrayList<>();
        for (int i = 0; i < before.locals.length; i++) {
            if (f.code.cfg.isLive(i, pc)) slots.add(new Slot(i, -1, "local variable '" + f.code.localName(i, pc) + "'"));
        }
        for (int i = 0; i < before.stack.size(); i++) slots.add(new Slot(-1, i, "an operand-stack value"));
        for (int k = 0; k < slots.size(); k++) {
            Slot slot = slots.get(k);
            Object a = slot.get(Frame.Outcome.at(pc, before)), b = slot.get(Frame.Outcome.at(pc, after));
            if (a == b) continue;
            if (a instanceof SymRecord ra && b instanceof SymRecord rb && ra.type == rb.type) {
                for (int i = 0; i < ra.size(); i++) slots.add(slot.component(ra, i));
                continue;
            }
            if (a instanceof Tensor && b instanceof Tensor || a instanceof SymScalar && b instanceof SymScalar) {
                carried.add(slot);
                kinds.add(a instanceof SymScalar ? 'S' : 'T');
                continue;
            }
            if (!isSymbolic(a) && !isSymbolic(b) && a != State.TOP && b != State.TOP && Objects.equals(a, b)) continue;
            char kind = Host.kindOf(a);
            if (kind != 0 && kind == Host.kindOf(b)) {
                carried.add(slot);
                kinds.add(kind);
                continue;
            }
            throw f.error("a data-dependent loop changes " + slot.description() + " from " + show(a) + " to " + show(b)
                    + "; only tensors and Java int, long, double and boolean values may change in a data-dependent loop");
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static Value valueOf(CaptureContext ctx, Object v) {
        if (v instanceof SymScalar sc) return ctx.recorder.valueOf(sc.tensor());
        return ctx.recorder.valueOf((Tensor) v);
    }

    private static TensorType typeOf(Tensor t) { return TensorType.of(t.dtype(), t.shape()); }

    /** The tensor's IR type as its arm's region saw it (symbolic dims kept), else its example type. */
    private static Type irType(Frame f, Tensor t) { return f.ctx.irTypes.getOrDefault(t, typeOf(t)); }

    private static boolean isSymbolic(Object v) {
        return v instanceof SymRecord || v instanceof Tensor || v instanceof SymScalar || v instanceof SymCompare || v instanceof HostScalar || v instanceof HostCompare;
    }

    private static String show(Object v) {
        if (v == State.TOP) return "nothing";
        if (v instanceof Tensor t) return "a tensor " + typeOf(t);
        if (v instanceof SymScalar) return "a tensor's Java value";
        if (v instanceof HostScalar) return "a Java value computed from tensor data";
        if (v instanceof SymCompare || v instanceof HostCompare) return "the result of a data-dependent comparison";
        if (v == null) return "null";
        if (v instanceof SymRecord r) return "a " + r;
        if (v instanceof Number || v instanceof String) return v.toString();
        return "a " + v.getClass().getSimpleName();
    }
}
