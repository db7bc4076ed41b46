package dev.kiln.frontend.nn;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Holds submodules in a list, registered as {@code 0, 1, ...}; it has no forward of its own. */
public final class ModuleList extends Module implements Iterable<Module> {

    private final List<Module> modules = new ArrayList<>();

    public ModuleList(Module... modules) { this.modules.addAll(List.of(modules)); }

    public ModuleList add(Module m) {
        modules.add(m);
        return this;
    }

    public Module get(int index) { return modules.get(index); }

    public int size() { return modules.size(); }

    @Override
    public Iterator<Module> iterator() { return List.copyOf(modules).iterator(); }

    @Override
    public Map<String, Module> namedChildren() {
        Map<String, Module> out = new LinkedHashMap<>();
        for (int i = 0; i < modules.size(); i++) out.put(Integer.toString(i), modules.get(i));
        return out;
    }
}
