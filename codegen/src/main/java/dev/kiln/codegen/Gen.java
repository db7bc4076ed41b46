package dev.kiln.codegen;

import dev.kiln.ir.KilnException;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.ConstantDynamic;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bytecode side of code generation: one hidden class under construction, its constants (class data, loaded
 * with {@code ldc} of a dynamic constant, so the JIT sees them as constants) and helpers to emit calls by Java
 * method reference, so descriptors come from the real methods rather than strings.
 */
final class Gen implements Opcodes {

    static final String PACKAGE = "dev/kiln/codegen/";
    private static final Handle CLASS_DATA_AT = new Handle(H_INVOKESTATIC, "java/lang/invoke/MethodHandles", "classDataAt",
            "(Ljava/lang/invoke/MethodHandles$Lookup;Ljava/lang/String;Ljava/lang/Class;I)Ljava/lang/Object;", false);

    final String internalName;
    final ClassWriter cw;
    private final List<Object> classData = new ArrayList<>();
    private final Map<Object, Integer> constantIndex = new IdentityHashMap<>();
    private int methods;

    /** The method being written and its next free local slot. */
    MethodVisitor mv;
    private int nextLocal;

    Gen(String simpleName) {
        this.internalName = PACKAGE + simpleName;
        this.cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS) {
            @Override
            protected String getCommonSuperClass(String a, String b) {
                try {
                    return super.getCommonSuperClass(a, b);
                } catch (RuntimeException | LinkageError e) {
                    return "java/lang/Object";
                }
            }

            @Override
            protected ClassLoader getClassLoader() { return Gen.class.getClassLoader(); }
        };
        cw.visit(V21, ACC_PUBLIC | ACC_FINAL | ACC_SUPER, internalName, null, "java/lang/Object",
                new String[] {Type.getInternalName(GeneratedCode.class)});
        MethodVisitor init = cw.visitMethod(ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(ALOAD, 0);
        init.visitMethodInsn(INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
    }

    /** Starts a method; {@code firstLocal} is the first slot after its parameters. */
    void beginMethod(int access, String name, String descriptor, int firstLocal) {
        mv = cw.visitMethod(access, name, descriptor, null, null);
        mv.visitCode();
        nextLocal = firstLocal;
    }

    void endMethod() {
        mv.visitInsn(RETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        mv = null;
    }

    /** Bytes of bytecode written so far in the method being written (a label placed here reports its offset). */
    int codeSize() {
        Label here = new Label();
        mv.visitLabel(here);
        return here.getOffset();
    }

    /** A fresh name for a static helper method ({@code prefix} + number). */
    String methodName(String prefix) { return prefix + (methods++); }

    /** The next free local of the method being written, to resume it after writing another method. */
    int saveLocals() { return nextLocal; }

    void restoreLocals(int saved) { nextLocal = saved; }

    int local(Class<?> type) {
        int slot = nextLocal;
        nextLocal += type == long.class || type == double.class ? 2 : 1;
        return slot;
    }

    /** The class data (constants) in index order, for {@code defineHiddenClassWithClassData}. */
    List<Object> classData() { return classData; }

    byte[] bytes() {
        cw.visitEnd();
        return cw.toByteArray();
    }

    // ---------------------------------------------------------------- constants

    /** Pushes {@code value}, typed as {@code type}, as a class-data constant (one entry per distinct object). */
    void constant(Object value, Class<?> type) {
        Integer index = constantIndex.get(value);
        if (index == null) {
            index = classData.size();
            classData.add(value);
            constantIndex.put(value, index);
        }
        mv.visitLdcInsn(new ConstantDynamic("_", Type.getDescriptor(type), CLASS_DATA_AT, index));
    }

    void segment(MemorySegment s) { constant(s, MemorySegment.class); }

    void pushInt(int v) {
        if (v >= -1 && v <= 5) mv.visitInsn(ICONST_0 + v);
        else if (v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE) mv.visitIntInsn(BIPUSH, v);
        else if (v >= Short.MIN_VALUE && v <= Short.MAX_VALUE) mv.visitIntInsn(SIPUSH, v);
        else mv.visitLdcInsn(v);
    }

    void pushLong(long v) {
        if (v == 0 || v == 1) mv.visitInsn((int) (LCONST_0 + v));
        else mv.visitLdcInsn(v);
    }

    void pushFloat(float v) { mv.visitLdcInsn(v); }

    void pushBool(boolean v) { mv.visitInsn(v ? ICONST_1 : ICONST_0); }

    // ---------------------------------------------------------------- calls

    /** Calls the public static method {@code owner.name(params)}. */
    void callStatic(Class<?> owner, String name, Class<?>... params) {
        Method m = method(owner, name, params);
        if (!Modifier.isStatic(m.getModifiers())) throw new KilnException(m + " is not static");
        mv.visitMethodInsn(INVOKESTATIC, Type.getInternalName(owner), name, Type.getMethodDescriptor(m), owner.isInterface());
    }

    /** Calls the public instance method {@code owner.name(params)} (receiver and arguments on the stack). */
    void callVirtual(Class<?> owner, String name, Class<?>... params) {
        Method m = method(owner, name, params);
        mv.visitMethodInsn(owner.isInterface() ? INVOKEINTERFACE : INVOKEVIRTUAL, Type.getInternalName(owner), name,
                Type.getMethodDescriptor(m), owner.isInterface());
    }

    /** Calls a static method of the class being generated. */
    void callOwn(String name, String descriptor) {
        mv.visitMethodInsn(INVOKESTATIC, internalName, name, descriptor, false);
    }

    private static Method method(Class<?> owner, String name, Class<?>... params) {
        try {
            return owner.getMethod(name, params);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("codegen: no method " + owner.getName() + "." + name + Arrays.toString(params), e);
        }
    }

    /** Defines the finished class as a hidden class with its constants; the JVM verifies it here. */
    MethodHandles.Lookup define(byte[] bytes) {
        try {
            return MethodHandles.lookup().defineHiddenClassWithClassData(bytes, List.copyOf(classData), true);
        } catch (IllegalAccessException | LinkageError e) {
            throw new IllegalStateException("codegen: the generated class " + internalName + " could not be defined: " + e, e);
        }
    }
}
