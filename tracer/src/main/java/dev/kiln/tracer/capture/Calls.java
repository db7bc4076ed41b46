package dev.kiln.tracer.capture;

import dev.kiln.frontend.Tensor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Field reads and method calls. Calls into the Kiln frontend ({@code Tensor}, {@code F}, library
 * {@code nn} modules) run atomically on example tensors while the recorder turns their dispatched ops
 * into IR; the user's own methods are inlined (their bytecode is executed abstractly, so their
 * branches are captured too); a short list of JDK calls (Math, boxing, lists) runs concretely;
 * anything else is rejected.
 */
final class Calls {

    private Calls() {}

    /** An object between {@code new} and its constructor call. */
    record Uninit(String internalName) {}

    private static final String ALLOWED = " (only Tensor, F, nn modules, the model's own classes, java.lang.Math, boxing, "
            + "lists and arrays)";
    private static final Set<String> BOXES = Set.of("java/lang/Integer", "java/lang/Long", "java/lang/Double",
            "java/lang/Float", "java/lang/Boolean", "java/lang/Short", "java/lang/Byte", "java/lang/Character", "java/lang/Number");
    private static final Set<String> BOX_METHODS = Set.of("valueOf", "intValue", "longValue", "doubleValue", "floatValue",
            "booleanValue", "shortValue", "byteValue", "charValue");
    private static final Set<String> COLLECTIONS = Set.of("java/util/List", "java/util/Collection", "java/lang/Iterable",
            "java/util/ArrayList", "java/util/Iterator");
    private static final Set<String> COLLECTION_READS = Set.of("of", "copyOf", "get", "size", "isEmpty", "iterator", "hasNext", "next");
    private static final Set<String> COLLECTION_WRITES = Set.of("add");

    static void field(Frame f, FieldInsnNode insn, int op, State s) {
        if (op == Opcodes.PUTFIELD || op == Opcodes.PUTSTATIC) {
            throw f.unsupported("writes to fields (" + f.classFor(Type.getObjectType(insn.owner).getDescriptor()).getSimpleName()
                    + "." + insn.name + " = ...)");
        }
        if (op == Opcodes.GETFIELD && s.peek() instanceof SymRecord r) {
            s.pop();
            int i = r.indexOf(insn.name);
            if (i < 0 || !insn.owner.equals(Type.getInternalName(r.type))) {
                throw f.error("reads field " + insn.owner.replace('/', '.') + "." + insn.name + " of " + r + ", which has no such component");
            }
            s.push(r.value(i));
            return;
        }
        Object receiver = op == Opcodes.GETFIELD ? s.pop() : null;
        if (op == Opcodes.GETFIELD && (receiver == null || receiver instanceof Uninit)) throw f.error("NullPointerException: reads field " + insn.name + " of null");
        if (receiver instanceof SymScalar || receiver instanceof SymCompare || receiver instanceof HostScalar) throw f.error("reads a field of a data-dependent value");
        Class<?> owner = f.classFor(Type.getObjectType(insn.owner).getDescriptor());
        Field field = findField(owner, insn.name);
        if (field == null) throw f.error("no field " + insn.name + " in " + owner.getName());
        Object value;
        try {
            field.setAccessible(true);
            value = field.get(Modifier.isStatic(field.getModifiers()) ? null : receiver);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw f.error("cannot read field " + owner.getSimpleName() + "." + insn.name + ": " + e);
        }
        f.ctx.guard(new FieldGuard(Modifier.isStatic(field.getModifiers()) ? null : receiver, field, value));
        s.push(toJvm(value));
    }

    private static Field findField(Class<?> c, String name) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            for (Field fd : k.getDeclaredFields()) if (fd.getName().equals(name)) return fd;
        }
        return null;
    }

    static void invoke(Frame f, MethodInsnNode insn, State s) {
        Type[] argTypes = Type.getArgumentTypes(insn.desc);
        List<Object> args = new ArrayList<>(Arrays.asList(new Object[argTypes.length]));
        for (int i = argTypes.length - 1; i >= 0; i--) args.set(i, s.pop());
        boolean isStatic = insn.getOpcode() == Opcodes.INVOKESTATIC;
        Object receiver = isStatic ? null : s.pop();
        if (insn.name.equals("<init>")) {
            construct(f, insn, (Uninit) receiver, args, s);
            return;
        }
        if (!isStatic && (receiver == null || receiver instanceof Uninit)) throw f.error("NullPointerException: calls " + insn.name + " on null");
        if (receiver instanceof SymScalar || receiver instanceof SymCompare || receiver instanceof HostScalar) throw f.error("calls " + insn.name + " on a data-dependent value");
        String ownerName = insn.owner.replace('/', '.');
        if (isJdk(ownerName)) {
            Object result = jdkCall(f, insn, receiver, args);
            if (result != Frame.VOID) s.push(result);
            return;
        }
        if (ownerName.startsWith("dev.kiln.") && !ownerName.startsWith("dev.kiln.frontend.") && !isUserKilnClass(ownerName)) {
            throw f.error("calls into " + ownerName + " are not supported in @Compile methods" + ALLOWED);
        }
        Class<?> start = isStatic || insn.getOpcode() == Opcodes.INVOKESPECIAL
                ? f.classFor(Type.getObjectType(insn.owner).getDescriptor())
                : receiver instanceof SymRecord r ? r.type : receiver.getClass();
        Method target = resolve(start, insn.name, insn.desc);
        if (target == null) throw f.error("cannot resolve " + ownerName + "." + insn.name + insn.desc);
        Class<?> declaring = target.getDeclaringClass();
        if (receiver instanceof SymRecord r && (declaring.getName().startsWith("dev.kiln.frontend.") || isJdk(declaring.getName()))) {
            throw f.error("calls " + declaring.getSimpleName() + "." + target.getName() + " on " + r + " built in the @Compile method;"
                    + " only the record's own methods (its accessors, or methods it declares) can be called on it");
        }
        if (declaring.getName().startsWith("dev.kiln.frontend.")) {
            Object result = atomic(f, target, receiver, args);
            if (target.getReturnType() != void.class) s.push(result);
        } else if (isJdk(declaring.getName())) {
            throw f.error("calls to " + declaring.getName() + "." + target.getName() + " are not supported in @Compile methods" + ALLOWED);
        } else {
            MethodCode code = MethodCode.load(declaring, insn.name, insn.desc, f.ctx.classes);
            Object result = f.ctx.inline(code, Modifier.isStatic(target.getModifiers()) ? null : receiver, args);
            if (result != Frame.VOID) s.push(result);
        }
    }

    /** The test and sample code of this project lives under dev.kiln too; only ir/runtime internals are off limits. */
    private static boolean isUserKilnClass(String name) {
        return !name.startsWith("dev.kiln.ir.") && !name.startsWith("dev.kiln.runtime.") && !name.startsWith("dev.kiln.onnx.")
                && !name.startsWith("dev.kiln.passes.") && !name.startsWith("dev.kiln.tracer.GraphRecorder");
    }

    private static boolean isJdk(String name) {
        return name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("jdk.") || name.startsWith("sun.")
                || name.startsWith("com.sun.");
    }

    private static Method resolve(Class<?> start, String name, String desc) {
        for (Class<?> k = start; k != null; k = k.getSuperclass()) {
            for (Method m : k.getDeclaredMethods()) {
                if (m.getName().equals(name) && Type.getMethodDescriptor(m).equals(desc) && !Modifier.isAbstract(m.getModifiers())) return m;
            }
        }
        for (Method m : start.getMethods()) {
            if (m.getName().equals(name) && Type.getMethodDescriptor(m).equals(desc)) return m;
        }
        return null;
    }

    /** Runs a frontend method for real on example tensors; the recorder turns its ops into IR. */
    private static Object atomic(Frame f, Method target, Object receiver, List<Object> args) {
        if (target.getDeclaringClass() == Tensor.class) {
            switch (target.getName()) {
                case "item" -> {
                    Tensor t = (Tensor) receiver;
                    if (t.numel() != 1) throw f.error("item() on a tensor of shape " + Arrays.toString(t.shape()) + ", which has " + t.numel() + " elements, not 1");
                    return new SymScalar(t);
                }
                case "toString", "equals", "hashCode" -> throw f.unsupported("Tensor." + target.getName() + "() calls (they read example data)");
                default -> { }
            }
        }
        if (target.getDeclaringClass() == Tensor.class && receiver instanceof Tensor self
                && args.stream().anyMatch(a -> a instanceof HostScalar || a instanceof SymScalar)) {
            Method overload = tensorOverload(target, args);
            if (overload != null) {
                Class<?>[] params = target.getParameterTypes();
                List<Object> converted = new ArrayList<>(args);
                for (int i = 0; i < params.length; i++) {
                    Object a = args.get(i);
                    if (!(a instanceof HostScalar || a instanceof SymScalar)) continue;
                    boolean isFloat = params[i] == double.class || params[i] == float.class;
                    char jvm = params[i] == double.class ? 'D' : params[i] == long.class ? 'J' : 'I';
                    if (Host.kindOf(a) != jvm) continue;   // a widening the JVM did not need (cannot happen in verified code)
                    converted.set(i, Host.tensor(f.ctx, a, jvm, dev.kiln.frontend.Promotion.resultType(self, isFloat)));
                }
                target = overload;
                args = converted;
            }
        }
        Object[] javaArgs = javaArgs(f, target, args);
        try {
            target.setAccessible(true);
            return toJvm(target.invoke(receiver, javaArgs));
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof CaptureException ce) throw ce;
            throw f.ctx.error(target.getDeclaringClass().getSimpleName() + "." + target.getName() + " failed: " + e.getCause());
        } catch (IllegalAccessException e) {
            throw f.error("cannot call " + target + ": " + e.getMessage());
        }
    }

    /**
     * For a Tensor method taking Java numbers ({@code mul(double)}, {@code add(long)}, ...), the overload
     * taking tensors in their place, which a data-dependent number (as a 0-d tensor of the dtype the
     * number overload would have made: {@link dev.kiln.frontend.Promotion#resultType(Tensor, boolean)})
     * computes the same with; null if there is none.
     */
    private static Method tensorOverload(Method target, List<Object> args) {
        Class<?>[] params = target.getParameterTypes();
        Class<?>[] want = params.clone();
        for (int i = 0; i < params.length; i++) {
            Object a = args.get(i);
            if ((a instanceof HostScalar || a instanceof SymScalar) && (params[i] == double.class || params[i] == long.class)) {
                want[i] = Tensor.class;
            }
        }
        if (java.util.Arrays.equals(want, params)) return null;
        try {
            Method m = Tensor.class.getMethod(target.getName(), want);
            return m.getReturnType() == target.getReturnType() ? m : null;
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static Object jdkCall(Frame f, MethodInsnNode insn, Object receiver, List<Object> args) {
        String owner = insn.owner;
        boolean allowed = (owner.equals("java/lang/Math") || owner.equals("java/lang/StrictMath")) && insn.getOpcode() == Opcodes.INVOKESTATIC
                || BOXES.contains(owner) && BOX_METHODS.contains(insn.name)
                || COLLECTIONS.contains(owner) && (COLLECTION_READS.contains(insn.name) || COLLECTION_WRITES.contains(insn.name));
        String name = owner.replace('/', '.') + "." + insn.name;
        if (!allowed) {
            throw f.error("calls to " + name + " are not supported in @Compile methods" + ALLOWED);
        }
        if (COLLECTION_WRITES.contains(insn.name)) f.ctx.checkMutable(receiver, name);
        Class<?> ownerClass = f.classFor(Type.getObjectType(owner).getDescriptor());
        Method m = null;
        for (Method cand : ownerClass.getMethods()) {
            if (cand.getName().equals(insn.name) && Type.getMethodDescriptor(cand).equals(insn.desc)) m = cand;
        }
        if (m == null) throw f.error("cannot resolve " + name + insn.desc);
        Object[] javaArgs = javaArgs(f, m, args);
        try {
            Object result = m.invoke(receiver, javaArgs);
            if (insn.name.equals("of") || insn.name.equals("copyOf") || insn.name.equals("iterator")) f.ctx.created(result);
            return m.getReturnType() == void.class ? Frame.VOID : toJvm(result);
        } catch (InvocationTargetException e) {
            throw f.error(name + " threw " + e.getCause());
        } catch (IllegalAccessException e) {
            throw f.error("cannot call " + name + ": " + e.getMessage());
        }
    }

    private static void construct(Frame f, MethodInsnNode insn, Uninit marker, List<Object> args, State s) {
        if (marker == null) throw f.unsupported("constructor calls on existing objects (super(...) or this(...))");
        if (Throwable.class.isAssignableFrom(f.classFor(Type.getObjectType(insn.owner).getDescriptor()))) {
            throw f.unsupported("throw statements (exceptions, here new " + insn.owner.substring(insn.owner.lastIndexOf('/') + 1) + ")");
        }
        Class<?> cls = f.classFor(Type.getObjectType(insn.owner).getDescriptor());
        if (cls.isRecord()) {
            s.replace(marker, newRecord(f, cls, insn, args));
            return;
        }
        if (!insn.owner.equals("java/util/ArrayList")) {
            throw f.unsupported("creating objects (new " + insn.owner.substring(insn.owner.lastIndexOf('/') + 1)
                    + "(...); only arrays, ArrayList and records)");
        }
        try {
            Class<?>[] params = Arrays.stream(Type.getArgumentTypes(insn.desc)).map(t -> f.classFor(t.getDescriptor())).toArray(Class[]::new);
            Object obj = ArrayList.class.getConstructor(params).newInstance(javaArgs(f, null, args, params));
            f.ctx.created(obj);
            s.replace(marker, obj);
        } catch (ReflectiveOperationException e) {
            throw f.error("new ArrayList failed: " + e);
        }
    }

    /**
     * {@code new R(args)} for a record class {@code R}: a {@link SymRecord} of the arguments, without
     * running the constructor. Only the canonical constructor, and only when its bytecode does
     * nothing but call {@code Record()} and assign each field from its parameter (a compact
     * constructor that validates or normalises its arguments would be skipped, so it is rejected).
     */
    private static SymRecord newRecord(Frame f, Class<?> cls, MethodInsnNode insn, List<Object> args) {
        String name = cls.getSimpleName();
        java.lang.reflect.RecordComponent[] comps = cls.getRecordComponents();
        StringBuilder canonical = new StringBuilder("(");
        for (java.lang.reflect.RecordComponent c : comps) canonical.append(Type.getDescriptor(c.getType()));
        canonical.append(")V");
        if (!insn.desc.equals(canonical.toString())) {
            throw f.unsupported("records made with a constructor other than the canonical one (new " + name + javaTypes(insn.desc)
                    + " instead of " + name + javaTypes(canonical.toString()) + ")");
        }
        MethodCode ctor = MethodCode.load(cls, "<init>", insn.desc, f.ctx.classes);
        int[] fieldToArg = plainAssignments(ctor, cls, Type.getArgumentTypes(insn.desc));
        if (fieldToArg == null) {
            throw f.error("new " + name + "(...): the canonical constructor of record " + name + " does more than assign its fields"
                    + " (" + ctor.where(0).replace(".<init>", " constructor") + "); a record built in a @Compile method must have a"
                    + " constructor without logic (no validation, normalisation or side effects), since capture does not run it");
        }
        for (Object a : args) {
            if (a instanceof Uninit) throw f.error("new " + name + "(...) is passed an object whose constructor has not run");
        }
        List<Object> values = new ArrayList<>();
        for (int i = 0; i < comps.length; i++) values.add(args.get(fieldToArg[i]));
        return new SymRecord(cls, values, f.ctx.where());
    }

    /** A method descriptor's parameter types as Java writes them: {@code (Tensor, int)}. */
    private static String javaTypes(String desc) {
        return Arrays.stream(Type.getArgumentTypes(desc)).map(t -> {
            String n = t.getClassName();
            return n.substring(Math.max(n.lastIndexOf('.'), n.lastIndexOf('$')) + 1);
        }).collect(java.util.stream.Collectors.joining(", ", "(", ")"));
    }

    /**
     * For a constructor made only of {@code super()} (Record's) and {@code this.field = param} for every
     * record field, the parameter index each component's field is assigned from; null otherwise.
     */
    private static int[] plainAssignments(MethodCode ctor, Class<?> cls, Type[] params) {
        java.lang.reflect.RecordComponent[] comps = cls.getRecordComponents();
        int[] paramAtSlot = new int[ctor.node.maxLocals + 2];
        java.util.Arrays.fill(paramAtSlot, -1);
        for (int i = 0, slot = 1; i < params.length; slot += params[i].getSize(), i++) paramAtSlot[slot] = i;
        int[] fieldToArg = new int[comps.length];
        java.util.Arrays.fill(fieldToArg, -1);
        String owner = Type.getInternalName(cls);
        List<org.objectweb.asm.tree.AbstractInsnNode> insns = new ArrayList<>();
        for (int i = 0; i < ctor.size(); i++) if (ctor.insn(i).getOpcode() >= 0) insns.add(ctor.insn(i));
        boolean superCalled = false;
        int i = 0;
        while (i < insns.size()) {
            var a = insns.get(i);
            if (a.getOpcode() == Opcodes.RETURN && i == insns.size() - 1) break;
            if (!(a instanceof org.objectweb.asm.tree.VarInsnNode v0) || a.getOpcode() != Opcodes.ALOAD || v0.var != 0 || i + 1 >= insns.size()) return null;
            var b = insns.get(i + 1);
            if (!superCalled && b instanceof MethodInsnNode m && m.getOpcode() == Opcodes.INVOKESPECIAL && m.owner.equals("java/lang/Record")
                    && m.name.equals("<init>") && m.desc.equals("()V")) {
                superCalled = true;
                i += 2;
                continue;
            }
            if (!superCalled || !(b instanceof org.objectweb.asm.tree.VarInsnNode v) || b.getOpcode() < Opcodes.ILOAD
                    || b.getOpcode() > Opcodes.ALOAD || i + 2 >= insns.size()) return null;
            if (v.var >= paramAtSlot.length || paramAtSlot[v.var] < 0) return null;
            if (!(insns.get(i + 2) instanceof FieldInsnNode put) || put.getOpcode() != Opcodes.PUTFIELD || !put.owner.equals(owner)) return null;
            int comp = -1;
            for (int k = 0; k < comps.length; k++) if (comps[k].getName().equals(put.name)) comp = k;
            int param = paramAtSlot[v.var];
            if (comp < 0 || fieldToArg[comp] >= 0 || !params[param].getDescriptor().equals(put.desc)) return null;
            fieldToArg[comp] = param;
            i += 3;
        }
        if (!superCalled || i != insns.size() - 1) return null;
        for (int k : fieldToArg) if (k < 0) return null;
        return fieldToArg;
    }

    private static Object[] javaArgs(Frame f, Method m, List<Object> args) {
        return javaArgs(f, m, args, m.getParameterTypes());
    }

    private static Object[] javaArgs(Frame f, Method m, List<Object> args, Class<?>[] params) {
        Object[] out = new Object[args.size()];
        for (int i = 0; i < out.length; i++) {
            Object a = args.get(i);
            if (a instanceof SymScalar || a instanceof SymCompare || a instanceof HostScalar || a instanceof HostCompare) {
                String callee = m == null ? "a constructor" : m.getDeclaringClass().getSimpleName() + "." + m.getName();
                throw f.error("a tensor's Java value (from item()) is passed to " + callee + "; this is not supported in "
                        + "@Compile methods yet: keep the value a tensor (for example x.sum() instead of x.sum().item())");
            }
            if (a instanceof SymRecord r) {
                String callee = m == null ? "a constructor" : m.getDeclaringClass().getSimpleName() + "." + m.getName();
                throw f.error(r + ", built in the @Compile method, is passed to " + callee + "; a record built in captured code can"
                        + " only be returned, passed to the model's own methods, or read through its accessors");
            }
            out[i] = fromJvm(a, params[i]);
        }
        return out;
    }

    /** A Java value as the JVM keeps it on the stack: booleans, chars, bytes and shorts as ints. */
    static Object toJvm(Object v) {
        return switch (v) {
            case Boolean b -> b ? 1 : 0;
            case Character c -> (int) c;
            case Byte b -> (int) b;
            case Short sh -> (int) sh;
            case null, default -> v;
        };
    }

    /** A stack value converted for a parameter or array element of type {@code type}. */
    static Object fromJvm(Object v, Class<?> type) {
        if (v instanceof Integer i) {
            if (type == boolean.class || type == Boolean.class) return i != 0;
            if (type == char.class || type == Character.class) return (char) (int) i;
            if (type == byte.class || type == Byte.class) return (byte) (int) i;
            if (type == short.class || type == Short.class) return (short) (int) i;
        }
        return v;
    }
}
