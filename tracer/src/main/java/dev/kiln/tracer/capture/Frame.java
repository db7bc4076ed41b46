package dev.kiln.tracer.capture;

import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.IincInsnNode;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.IntInsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.LookupSwitchInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.TableSwitchInsnNode;
import org.objectweb.asm.tree.TypeInsnNode;
import org.objectweb.asm.tree.VarInsnNode;

import java.lang.reflect.Array;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Executes one method's bytecode abstractly. Concrete values (numbers, objects) are computed as the
 * JVM would; tensor calls run atomically through {@link Calls} and record IR; a branch on a symbolic
 * condition is handed to {@link Regions}, which builds an {@code if} or {@code loop} op.
 */
final class Frame {

    /** Where a run stopped: at a requested instruction with a state, or at a return with a value. */
    record Outcome(State state, int pc, boolean returned, Object value) {
        static Outcome at(int pc, State state) { return new Outcome(state, pc, false, null); }

        static Outcome ret(Object value) { return new Outcome(null, -1, true, value); }
    }

    static final Object VOID = new Object() {
        @Override public String toString() { return "void"; }
    };

    final CaptureContext ctx;
    final MethodCode code;
    private int pc;
    private final Map<Integer, Integer> backJumps = new HashMap<>();
    /** Branch pcs of the data-dependent loops being built in this frame (a loop reached again from its own body is an exit). */
    final java.util.Set<Integer> activeLoops = new java.util.HashSet<>();

    Frame(CaptureContext ctx, MethodCode code) {
        this.ctx = ctx;
        this.code = code;
    }

    String where() { return code.where(pc); }

    /** Makes {@code at} the current instruction, for error locations. */
    void moveTo(int at) { pc = at; }

    CaptureException error(String what) { return ctx.error(what); }

    CaptureException unsupported(String construct) { return ctx.error(construct + " are not supported in @Compile methods"); }

    /** Runs the whole method on {@code receiver} (null for static methods) and JVM-form arguments. */
    Object invoke(Object receiver, List<Object> args) {
        if ((code.node.access & Opcodes.ACC_SYNCHRONIZED) != 0) {
            pc = firstInstruction();
            throw unsupported("synchronized methods");
        }
        for (int i = 0; i < code.size(); i++) {
            if (code.insn(i).getOpcode() == Opcodes.MONITORENTER) {
                pc = i;
                throw unsupported("synchronized blocks");
            }
        }
        if (code.node.tryCatchBlocks != null && !code.node.tryCatchBlocks.isEmpty()) {
            pc = code.indexOf(code.node.tryCatchBlocks.get(0).start);
            while (pc < code.size() - 1 && code.insn(pc).getOpcode() < 0) pc++;
            throw unsupported("try/catch/finally blocks");
        }
        State s = new State(Math.max(code.node.maxLocals, 1));
        int slot = 0;
        if (!code.isStatic()) s.locals[slot++] = receiver;
        for (Object a : args) {
            s.locals[slot] = a;
            slot += State.isWide(a) ? 2 : 1;
        }
        Outcome o = run(0, s, -1, -1);
        return o.value();
    }

    private int firstInstruction() {
        for (int i = 0; i < code.size(); i++) if (code.insn(i).getOpcode() >= 0) return i;
        return 0;
    }

    /**
     * Executes from {@code start} until reaching {@code stop} (before executing it) or a return.
     * Reaching {@code forbidden} (the exit of an enclosing data-dependent loop) is an error.
     */
    Outcome run(int start, State s, int stop, int forbidden) {
        int at = start;
        while (true) {
            if (at == stop) return Outcome.at(at, s);
            pc = at;
            if (at == forbidden) throw unsupported("break statements in data-dependent loops");
            AbstractInsnNode insn = code.insn(at);
            int op = insn.getOpcode();
            if (op < 0) {
                at++;
                continue;
            }
            if (insn instanceof JumpInsnNode j) {
                int target = code.indexOf(j.label);
                if (op == Opcodes.GOTO) {
                    at = jump(at, target);
                    continue;
                }
                if (op == Opcodes.JSR) throw unsupported("jsr subroutines");
                Object cond = Branches.condition(this, op, s);
                if (cond instanceof Boolean taken) {
                    at = taken ? jump(at, target) : at + 1;
                    continue;
                }
                Outcome o = Regions.branch(this, at, target, cond, s, stop, forbidden);
                if (o.returned()) return o;
                s = o.state();
                at = o.pc();
                pc = at;
                continue;
            }
            if (op >= Opcodes.IRETURN && op <= Opcodes.ARETURN) return Outcome.ret(s.pop());
            if (op == Opcodes.RETURN) return Outcome.ret(VOID);
            at = step(insn, op, s, at);
        }
    }

    private int jump(int from, int target) {
        if (target <= from && backJumps.merge(target, 1, Integer::sum) > CaptureContext.MAX_ITERATIONS) {
            throw error("a loop ran more than " + CaptureContext.MAX_ITERATIONS + " iterations while being unrolled");
        }
        return target;
    }

    /** Executes one non-branching instruction; returns the next pc. */
    private int step(AbstractInsnNode insn, int op, State s, int at) {
        switch (insn) {
            case VarInsnNode v -> {
                if (op >= Opcodes.ILOAD && op <= Opcodes.ALOAD) {
                    Object val = s.locals[v.var];
                    if (val == State.TOP) throw error("reads an unset local slot " + v.var);
                    s.push(val);
                } else if (op >= Opcodes.ISTORE && op <= Opcodes.ASTORE) {
                    Object val = s.pop();
                    s.locals[v.var] = val;
                    if (op == Opcodes.LSTORE || op == Opcodes.DSTORE) s.locals[v.var + 1] = State.TOP;
                } else {
                    throw unsupported("ret instructions");
                }
            }
            case IincInsnNode inc -> {
                if (s.locals[inc.var] instanceof HostScalar h && h.jvm() == 'I') {
                    s.locals[inc.var] = Host.increment(this, h, inc.incr);
                    return at + 1;
                }
                if (!(s.locals[inc.var] instanceof Integer i)) throw error("increments a non-int local " + code.localName(inc.var, at));
                s.locals[inc.var] = i + inc.incr;
            }
            case IntInsnNode in -> {
                if (op == Opcodes.NEWARRAY) {
                    int len = Arith.intValue(this, s.pop());
                    Object arr = Array.newInstance(primitiveArrayClass(in.operand), len);
                    ctx.created(arr);
                    s.push(arr);
                } else {
                    s.push(in.operand);
                }
            }
            case LdcInsnNode ldc -> s.push(ldc(ldc.cst));
            case TypeInsnNode t -> typeInsn(t, op, s);
            case FieldInsnNode f -> Calls.field(this, f, op, s);
            case MethodInsnNode m -> Calls.invoke(this, m, s);
            case TableSwitchInsnNode t -> {
                int key = Arith.intValue(this, s.pop());
                int idx = key - t.min;
                return code.indexOf(idx >= 0 && idx < t.labels.size() ? t.labels.get(idx) : t.dflt);
            }
            case LookupSwitchInsnNode l -> {
                int key = Arith.intValue(this, s.pop());
                int idx = l.keys.indexOf(key);
                return code.indexOf(idx >= 0 ? l.labels.get(idx) : l.dflt);
            }
            case InsnNode i -> simple(op, s);
            default -> {
                if (op == Opcodes.INVOKEDYNAMIC) throw unsupported("lambdas, method references and string concatenation (invokedynamic)");
                if (op == Opcodes.MULTIANEWARRAY) throw unsupported("multi-dimensional array creation");
                throw unsupported("bytecode " + insn.getClass().getSimpleName() + " (opcode " + op + ")");
            }
        }
        return at + 1;
    }

    private Object ldc(Object cst) {
        if (cst instanceof Integer || cst instanceof Float || cst instanceof Long || cst instanceof Double || cst instanceof String) {
            return cst;
        }
        if (cst instanceof Type t && t.getSort() == Type.OBJECT || cst instanceof Type t2 && t2.getSort() == Type.ARRAY) {
            return classFor(((Type) cst).getDescriptor());
        }
        throw unsupported("constant " + cst + " (dynamic constants, method handles)");
    }

    private void typeInsn(TypeInsnNode t, int op, State s) {
        switch (op) {
            case Opcodes.NEW -> s.push(new Calls.Uninit(t.desc));
            case Opcodes.ANEWARRAY -> {
                int len = Arith.intValue(this, s.pop());
                Object arr = Array.newInstance(classFor(Type.getObjectType(t.desc).getDescriptor()), len);
                ctx.created(arr);
                s.push(arr);
            }
            case Opcodes.CHECKCAST -> {
                Object v = s.peek();
                if (v instanceof SymScalar || v instanceof SymCompare || v instanceof HostScalar || v instanceof HostCompare
                        || v instanceof Calls.Uninit) throw error("casts a data-dependent value");
                if (v instanceof SymRecord r) {
                    if (!classFor(Type.getObjectType(t.desc).getDescriptor()).isAssignableFrom(r.type)) {
                        throw error("ClassCastException: " + r.type.getName() + " is not a " + t.desc.replace('/', '.'));
                    }
                } else if (v != null && !classFor(Type.getObjectType(t.desc).getDescriptor()).isInstance(v)) {
                    throw error("ClassCastException: " + v.getClass().getName() + " is not a " + t.desc.replace('/', '.'));
                }
            }
            case Opcodes.INSTANCEOF -> {
                Object v = s.pop();
                Class<?> c = classFor(Type.getObjectType(t.desc).getDescriptor());
                s.push(v instanceof SymRecord r ? (c.isAssignableFrom(r.type) ? 1 : 0) : v != null && c.isInstance(v) ? 1 : 0);
            }
            default -> throw unsupported("opcode " + op);
        }
    }

    /** The class named by a field/type descriptor, loaded by the method owner's loader. */
    Class<?> classFor(String descriptor) {
        Type t = Type.getType(descriptor);
        try {
            return switch (t.getSort()) {
                case Type.BOOLEAN -> boolean.class;
                case Type.CHAR -> char.class;
                case Type.BYTE -> byte.class;
                case Type.SHORT -> short.class;
                case Type.INT -> int.class;
                case Type.FLOAT -> float.class;
                case Type.LONG -> long.class;
                case Type.DOUBLE -> double.class;
                case Type.ARRAY -> Class.forName(t.getDescriptor().replace('/', '.'), false, code.owner.getClassLoader());
                default -> Class.forName(t.getClassName(), false, code.owner.getClassLoader());
            };
        } catch (ClassNotFoundException e) {
            throw error("cannot load class " + t.getClassName());
        }
    }

    private static Class<?> primitiveArrayClass(int operand) {
        return switch (operand) {
            case Opcodes.T_BOOLEAN -> boolean.class;
            case Opcodes.T_CHAR -> char.class;
            case Opcodes.T_FLOAT -> float.class;
            case Opcodes.T_DOUBLE -> double.class;
            case Opcodes.T_BYTE -> byte.class;
            case Opcodes.T_SHORT -> short.class;
            case Opcodes.T_INT -> int.class;
            case Opcodes.T_LONG -> long.class;
            default -> throw new IllegalStateException("newarray type " + operand);
        };
    }

    /** Instructions without operands: constants, arrays, stack shuffles, arithmetic, monitors, throw. */
    private void simple(int op, State s) {
        switch (op) {
            case Opcodes.NOP -> { }
            case Opcodes.ACONST_NULL -> s.push(null);
            case Opcodes.ICONST_M1, Opcodes.ICONST_0, Opcodes.ICONST_1, Opcodes.ICONST_2, Opcodes.ICONST_3,
                 Opcodes.ICONST_4, Opcodes.ICONST_5 -> s.push(op - Opcodes.ICONST_0);
            case Opcodes.LCONST_0, Opcodes.LCONST_1 -> s.push((long) (op - Opcodes.LCONST_0));
            case Opcodes.FCONST_0, Opcodes.FCONST_1, Opcodes.FCONST_2 -> s.push((float) (op - Opcodes.FCONST_0));
            case Opcodes.DCONST_0, Opcodes.DCONST_1 -> s.push((double) (op - Opcodes.DCONST_0));
            case Opcodes.IALOAD, Opcodes.LALOAD, Opcodes.FALOAD, Opcodes.DALOAD, Opcodes.AALOAD, Opcodes.BALOAD,
                 Opcodes.CALOAD, Opcodes.SALOAD -> {
                int index = Arith.intValue(this, s.pop());
                Object arr = s.pop();
                if (arr == null) throw error("NullPointerException: array load from null");
                if (index < 0 || index >= Array.getLength(arr)) throw error("ArrayIndexOutOfBoundsException: index " + index);
                s.push(Calls.toJvm(Array.get(arr, index)));
            }
            case Opcodes.IASTORE, Opcodes.LASTORE, Opcodes.FASTORE, Opcodes.DASTORE, Opcodes.AASTORE, Opcodes.BASTORE,
                 Opcodes.CASTORE, Opcodes.SASTORE -> {
                Object value = s.pop();
                int index = Arith.intValue(this, s.pop());
                Object arr = s.pop();
                if (arr == null) throw error("NullPointerException: array store into null");
                ctx.checkMutable(arr, "an array store");
                if (value instanceof SymScalar || value instanceof SymCompare || value instanceof HostScalar || value instanceof HostCompare) throw error("stores a data-dependent Java value in an array; keep it a tensor");
                if (value instanceof SymRecord r) throw error("stores " + r + ", built in the @Compile method, in an array; this is not supported in @Compile methods");
                if (index < 0 || index >= Array.getLength(arr)) throw error("ArrayIndexOutOfBoundsException: index " + index);
                Array.set(arr, index, Calls.fromJvm(value, arr.getClass().getComponentType()));
            }
            case Opcodes.ARRAYLENGTH -> {
                Object arr = s.pop();
                if (arr == null) throw error("NullPointerException: length of a null array");
                s.push(Array.getLength(arr));
            }
            case Opcodes.POP -> s.pop();
            case Opcodes.POP2 -> {
                if (!State.isWide(s.pop())) s.pop();
            }
            case Opcodes.DUP -> s.push(s.peek());
            case Opcodes.DUP_X1 -> {
                Object v1 = s.pop(), v2 = s.pop();
                s.push(v1); s.push(v2); s.push(v1);
            }
            case Opcodes.DUP_X2 -> {
                Object v1 = s.pop(), v2 = s.pop();
                if (State.isWide(v2)) {
                    s.push(v1); s.push(v2); s.push(v1);
                } else {
                    Object v3 = s.pop();
                    s.push(v1); s.push(v3); s.push(v2); s.push(v1);
                }
            }
            case Opcodes.DUP2 -> {
                Object v1 = s.peek();
                if (State.isWide(v1)) {
                    s.push(v1);
                } else {
                    Object a = s.pop(), b = s.pop();
                    s.push(b); s.push(a); s.push(b); s.push(a);
                }
            }
            case Opcodes.DUP2_X1 -> {
                Object v1 = s.pop();
                if (State.isWide(v1)) {
                    Object v2 = s.pop();
                    s.push(v1); s.push(v2); s.push(v1);
                } else {
                    Object v2 = s.pop(), v3 = s.pop();
                    s.push(v2); s.push(v1); s.push(v3); s.push(v2); s.push(v1);
                }
            }
            case Opcodes.DUP2_X2 -> throw unsupported("the dup2_x2 instruction");
            case Opcodes.SWAP -> {
                Object v1 = s.pop(), v2 = s.pop();
                s.push(v1); s.push(v2);
            }
            case Opcodes.ATHROW -> throw unsupported("throw statements");
            case Opcodes.MONITORENTER, Opcodes.MONITOREXIT -> throw unsupported("synchronized blocks");
            default -> {
                if (op >= Opcodes.IADD && op <= Opcodes.DCMPG) {
                    Arith.apply(this, op, s);
                } else {
                    throw unsupported("opcode " + op);
                }
            }
        }
    }
}
