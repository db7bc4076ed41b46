package dev.kiln.runtime.io;

import dev.kiln.ir.KilnException;
import dev.kiln.runtime.io.WriteTargetException.Reason;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The one way Kiln writes files (models, external data, NetDef nets, safetensors, optimiser state): safely
 * against links planted by someone else, and atomically.
 *
 * <ul>
 *   <li>A target that is a symbolic link is never written through nor replaced, even when overwriting is
 *       allowed; a target that exists and is not a regular file is refused; an existing regular file is
 *       replaced only when the caller allows it.</li>
 *   <li>The target's directory must exist and must not itself be a symbolic link: a link swapped in for
 *       the directory is the classic way to redirect a write. Links higher up the path are the caller's
 *       choice of path and are followed. Where the platform allows it ({@link SecureDirectoryStream},
 *       all Unix-like systems), the directory is opened once, checked to be the directory that was
 *       examined, and every later step (create, examine, rename, delete) happens relative to that open
 *       directory by a single file name, so nothing is ever written outside it even if paths change
 *       meanwhile.</li>
 *   <li>Bytes go to a new temporary file in the same directory, created exclusively without following
 *       links ({@code .NAME.kiln-tmp}, or a random variant when that name is taken; a link planted at a
 *       temporary name is skipped, never followed), forced to disk, then renamed over the target
 *       atomically. A failure at any point removes the temporary files and leaves the target untouched:
 *       readers see the old file or the complete new one, never a partial file.</li>
 * </ul>
 *
 * <p>A {@link Batch} stages several files (a model and its external data) and renames them into place
 * together at the end. Refusals are {@link WriteTargetException}s naming the file and the rule; I/O
 * failures are {@link IOException}s.
 */
public final class SafeFiles {

    /** Writes a file's bytes into the (empty) temporary file's channel, at any positions. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;

        /** Content that is exactly {@code bytes}. */
        static Content of(byte[] bytes) {
            Objects.requireNonNull(bytes, "bytes");
            return ch -> {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
            };
        }
    }

    private static final int TEMP_ATTEMPTS = 16;
    private static final int TEMP_NAME_KEEP = 96;
    private static final RandomGenerator RANDOM = new SecureRandom();

    private SafeFiles() {}

    /**
     * Writes one file safely and atomically, as the class description says.
     *
     * @param what      names the file in messages, such as "model file"
     * @param overwrite whether an existing regular file may be replaced
     * @throws WriteTargetException if the target or its directory breaks a rule (nothing is written)
     * @throws IOException          if writing fails (no temporary file is left, the target is untouched)
     */
    public static void write(Path file, String what, boolean overwrite, Content content) throws IOException {
        try (Batch batch = batch()) {
            batch.stage(file, what, overwrite, content);
            batch.commit();
        }
    }

    /** A new batch of files to stage and then rename into place together. */
    public static Batch batch() { return new Batch(true, RANDOM); }

    /**
     * Files written to temporary names first and renamed into place by {@link #commit}, in staging order;
     * closing it removes whatever was not committed. Not thread-safe.
     */
    public static final class Batch implements AutoCloseable {
        private final boolean secure;
        private final RandomGenerator random;
        private final Map<Path, Dir> dirs = new LinkedHashMap<>();
        private final List<Staged> staged = new ArrayList<>();
        private boolean committed;

        /** {@code secure = false} takes the path-based route that platforms without secure directory streams use. */
        Batch(boolean secure, RandomGenerator random) {
            this.secure = secure;
            this.random = random;
        }

        /**
         * Fails now if {@code file} could not be written (see the class description), without creating
         * anything; {@link #stage} and {@link #commit} check again.
         */
        public void check(Path file, String what, boolean overwrite) throws IOException {
            Target t = target(file, what);
            checkTarget(t, overwrite);
        }

        /**
         * Writes {@code content} to a new temporary file beside {@code file}, to be renamed over it by
         * {@link #commit}. The target is checked first, so a refused target costs no writing.
         */
        public void stage(Path file, String what, boolean overwrite, Content content) throws IOException {
            Objects.requireNonNull(content, "content");
            if (committed) throw new IllegalStateException("this batch was already committed");
            Target t = target(file, what);
            for (Staged s : staged) {
                if (s.target.dir == t.dir && s.target.name.equals(t.name)) throw new KilnException(what + " " + t.file + " is staged twice");
            }
            checkTarget(t, overwrite);
            Staged s = createTemp(t, overwrite);
            try (FileChannel ch = s.channel) {
                content.writeTo(ch);
                ch.force(true);
            }
        }

        /**
         * Renames every staged file over its target, in staging order, each target checked again just before.
         * Each rename is atomic; if one fails, the files renamed before it stay in place and the rest are
         * removed.
         */
        public void commit() throws IOException {
            if (committed) throw new IllegalStateException("this batch was already committed");
            committed = true;
            for (Staged s : staged) {
                checkTarget(s.target, s.overwrite);
                s.target.dir.rename(s.tempName, s.target.name);
                s.renamed = true;
            }
        }

        /** Removes the temporary files that were not renamed into place (best effort) and releases the directories. */
        @Override
        public void close() {
            for (Staged s : staged) {
                if (s.renamed) continue;
                try {
                    s.channel.close();
                    s.target.dir.delete(s.tempName);
                } catch (IOException ignored) {
                    // best effort: the name starts with a dot and ends in .kiln-tmp, saying whose it is
                }
            }
            for (Dir d : dirs.values()) d.close();
            dirs.clear();
        }

        private Target target(Path file, String what) throws IOException {
            Path abs = file.toAbsolutePath();
            Path dir = abs.getParent();
            Path fileName = abs.getFileName();
            String name = fileName == null ? null : fileName.toString();
            if (dir == null || name == null || name.equals(".") || name.equals("..")) {
                throw new KilnException("cannot write the " + what + " " + file + ": it does not name a file");
            }
            Dir d = dirs.get(dir);
            if (d == null) {
                d = open(dir, abs, what);
                dirs.put(dir, d);
            }
            return new Target(d, name, abs, what);
        }

        private Dir open(Path dir, Path file, String what) throws IOException {
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                throw new WriteTargetException(Reason.NO_DIRECTORY, "the directory " + dir + " of the " + what + " " + file + " does not exist");
            }
            if (a.isSymbolicLink()) throw directoryIsLink(dir, file, what, "is a symbolic link");
            if (!a.isDirectory()) throw new WriteTargetException(Reason.NO_DIRECTORY, dir + ", the directory of the " + what + " " + file + ", is not a directory");
            if (secure) {
                DirectoryStream<Path> stream = Files.newDirectoryStream(dir);
                if (stream instanceof SecureDirectoryStream<Path> sds) {
                    Object key = sds.getFileAttributeView(BasicFileAttributeView.class).readAttributes().fileKey();
                    if (key == null || !key.equals(a.fileKey())) {
                        stream.close();
                        throw directoryIsLink(dir, file, what, "was replaced while it was being opened");
                    }
                    return new SecureDir(sds, dir);
                }
                stream.close();
            }
            return new PathDir(dir);
        }

        private static WriteTargetException directoryIsLink(Path dir, Path file, String what, String problem) {
            return new WriteTargetException(Reason.DIRECTORY_IS_LINK, "the directory " + dir + " of the " + what + " " + file + " " + problem
                    + "; Kiln writes only into real directories (pass the directory's real path, Path.toRealPath(), if the link is meant)");
        }

        private static void checkTarget(Target t, boolean overwrite) throws IOException {
            BasicFileAttributes a = t.dir.attributes(t.name);
            if (a == null) return;
            if (a.isSymbolicLink()) {
                throw new WriteTargetException(Reason.TARGET_IS_LINK, "the " + t.what + " " + t.file + " is a symbolic link; Kiln never"
                        + " writes through or replaces links, even with overwrite allowed (remove the link first)");
            }
            if (!a.isRegularFile()) throw new WriteTargetException(Reason.TARGET_NOT_REGULAR, "the " + t.what + " " + t.file + " exists and is not a regular file");
            if (!overwrite) throw new WriteTargetException(Reason.TARGET_EXISTS, "the " + t.what + " " + t.file + " already exists");
        }

        private Staged createTemp(Target t, boolean overwrite) throws IOException {
            String base = t.name.length() > TEMP_NAME_KEEP ? t.name.substring(0, TEMP_NAME_KEEP) : t.name;
            for (int attempt = 0; ; attempt++) {
                String temp = tempName(base, attempt, random);
                FileChannel ch;
                try {
                    ch = t.dir.create(temp);
                } catch (FileAlreadyExistsException e) {    // also a link planted at this name: never followed
                    if (attempt + 1 >= TEMP_ATTEMPTS) throw e;
                    continue;
                }
                Staged s = new Staged(t, temp, ch, overwrite);
                staged.add(s);
                return s;
            }
        }
    }

    /** The temporary name of the {@code attempt}-th try for a target named {@code base}. */
    static String tempName(String base, int attempt, RandomGenerator random) {
        if (attempt == 0) return "." + base + ".kiln-tmp";
        byte[] id = new byte[8];
        random.nextBytes(id);
        return "." + base + "." + HexFormat.of().formatHex(id) + ".kiln-tmp";
    }

    private record Target(Dir dir, String name, Path file, String what) {}

    private static final class Staged {
        final Target target;
        final String tempName;
        final FileChannel channel;
        final boolean overwrite;
        boolean renamed;

        Staged(Target target, String tempName, FileChannel channel, boolean overwrite) {
            this.target = target;
            this.tempName = tempName;
            this.channel = channel;
            this.overwrite = overwrite;
        }
    }

    /** A directory that files are created in, examined, renamed and deleted by single names. */
    private interface Dir {
        /** The entry's own attributes (links not followed), or null if there is none. */
        BasicFileAttributes attributes(String name) throws IOException;

        /** A new file opened for writing; fails if the name exists in any form, a link included. */
        FileChannel create(String name) throws IOException;

        /** Renames {@code from} to {@code to} atomically, replacing {@code to}. */
        void rename(String from, String to) throws IOException;

        void delete(String name) throws IOException;

        void close();
    }

    /** Every step relative to one open directory handle (openat, fstatat, renameat, unlinkat). */
    private record SecureDir(SecureDirectoryStream<Path> sds, Path path) implements Dir {
        @Override
        public BasicFileAttributes attributes(String name) throws IOException {
            try {
                return sds.getFileAttributeView(Path.of(name), BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).readAttributes();
            } catch (NoSuchFileException e) {
                return null;
            }
        }

        @Override
        public FileChannel create(String name) throws IOException {
            SeekableByteChannel c = sds.newByteChannel(Path.of(name),
                    Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS));
            if (c instanceof FileChannel fc) return fc;
            c.close();
            sds.deleteFile(Path.of(name));
            throw new IOException("the platform did not open " + path.resolve(name) + " as a file channel");
        }

        @Override
        public void rename(String from, String to) throws IOException { sds.move(Path.of(from), sds, Path.of(to)); }

        @Override
        public void delete(String name) throws IOException {
            try {
                sds.deleteFile(Path.of(name));
            } catch (NoSuchFileException ignored) {
                // already gone
            }
        }

        @Override
        public void close() {
            try {
                sds.close();
            } catch (IOException ignored) {
                // nothing was written through the stream itself
            }
        }
    }

    /** The path-based route, for platforms without secure directory streams: the same checks, by path. */
    private record PathDir(Path path) implements Dir {
        @Override
        public BasicFileAttributes attributes(String name) throws IOException {
            try {
                return Files.readAttributes(path.resolve(name), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                return null;
            }
        }

        @Override
        public FileChannel create(String name) throws IOException {
            return FileChannel.open(path.resolve(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        }

        @Override
        public void rename(String from, String to) throws IOException {
            Files.move(path.resolve(from), path.resolve(to), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }

        @Override
        public void delete(String name) throws IOException { Files.deleteIfExists(path.resolve(name)); }

        @Override
        public void close() {}
    }
}
