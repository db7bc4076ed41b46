package dev.kiln.tracer.capture;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LocalVariableNode;
import org.objectweb.asm.tree.MethodNode;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/** One method's bytecode (ASM tree) with its control-flow graph, and how to name places in it. */
final class MethodCode {

    final Class<?> owner;
    final ClassNode classNode;
    final MethodNode node;
    final ControlFlow cfg;

    private MethodCode(Class<?> owner, ClassNode classNode, MethodNode node) {
        this.owner = owner;
        this.classNode = classNode;
        this.node = node;
        this.cfg = new ControlFlow(node.instructions, Math.max(node.maxLocals, 1) + 2);
    }

    /** Loads method {@code name}{@code desc} of {@code owner} from its class file, caching class nodes. */
    static MethodCode load(Class<?> owner, String name, String desc, Map<Class<?>, ClassNode> cache) {
        ClassNode cn = cache.computeIfAbsent(owner, MethodCode::readClass);
        for (MethodNode m : cn.methods) {
            if (m.name.equals(name) && m.desc.equals(desc)) {
                if ((m.access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) != 0) {
                    throw new CaptureException(owner.getSimpleName() + "." + name + ": abstract or native methods cannot be captured");
                }
                return new MethodCode(owner, cn, m);
            }
        }
        throw new CaptureException(owner.getName() + " has no method " + name + desc + " in its class file");
    }

    private static ClassNode readClass(Class<?> c) {
        String resource = c.getName().replace('.', '/') + ".class";
        ClassLoader loader = c.getClassLoader() != null ? c.getClassLoader() : ClassLoader.getSystemClassLoader();
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) throw new CaptureException("cannot read the class file of " + c.getName() + " (" + resource + ")");
            ClassNode cn = new ClassNode();
            new ClassReader(in.readAllBytes()).accept(cn, 0);
            return cn;
        } catch (IOException e) {
            throw new CaptureException("cannot read the class file of " + c.getName() + ": " + e.getMessage(), e);
        }
    }

    AbstractInsnNode insn(int pc) { return node.instructions.get(pc); }

    int size() { return node.instructions.size(); }

    int indexOf(LabelNode label) { return node.instructions.indexOf(label); }

    boolean isStatic() { return (node.access & Opcodes.ACC_STATIC) != 0; }

    /** {@code Class.method (File.java:line)} for instruction {@code pc}. */
    String where(int pc) {
        int line = cfg.line(pc);
        if (line < 0) line = firstLine();
        String file = classNode.sourceFile != null ? classNode.sourceFile : "unknown source";
        return owner.getSimpleName() + "." + node.name + " (" + file + (line >= 0 ? ":" + line : "") + ")";
    }

    /** The first source line of the method, or -1. */
    int firstLine() {
        for (int i = 0; i < size(); i++) if (cfg.line(i) >= 0) return cfg.line(i);
        return -1;
    }

    /** The source name of local slot {@code slot} at {@code pc}, or {@code "slot N"} without debug info. */
    String localName(int slot, int pc) {
        if (node.localVariables != null) {
            for (LocalVariableNode lv : node.localVariables) {
                if (lv.index == slot && indexOf(lv.start) <= pc && pc <= indexOf(lv.end)) return lv.name;
            }
        }
        return "slot " + slot;
    }
}
