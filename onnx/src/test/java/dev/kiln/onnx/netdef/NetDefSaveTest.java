package dev.kiln.onnx.netdef;

import dev.kiln.ir.IrParser;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link NetDefModel#save} against planted links: it once followed a link at init_net.pb and overwrote a file outside. */
class NetDefSaveTest {

    @TempDir Path root;
    private Path dir, outside, secret, init, predict;
    private NetDefModel model;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createDirectory(root.resolve("net"));
        outside = Files.createDirectory(root.resolve("outside"));
        secret = Files.writeString(outside.resolve("secret.txt"), "secret");
        init = dir.resolve("init_net.pb");
        predict = dir.resolve("predict_net.pb");
        model = NetDefExporter.export(IrParser.parse(NetDefExporterTest.SMALL), NetDefExporterTest.smallWeights());
    }

    @Test
    void aLinkAtEitherTargetIsRefusedAndNothingIsWritten() throws IOException {
        for (Path target : new Path[] {init, predict}) {
            symlink(target, secret);
            NetDefException e = assertThrows(NetDefException.class, () -> model.save(init, predict));
            assertEquals("cannot save NetDef model: the " + (target == init ? "init_net" : "predict_net") + " file " + target
                    + " is a symbolic link; Kiln never writes through or replaces links, even with overwrite allowed (remove the link first)",
                    e.getMessage());
            assertEquals("secret", Files.readString(secret));
            assertTrue(Files.isSymbolicLink(target));
            assertEquals(Set.of(target.getFileName().toString()), names(dir), "neither net was written, no temporary file left");
            Files.delete(target);
        }
        model.save(init, predict);
        assertEquals(model, NetDefModel.load(init, predict));
    }

    @Test
    void linksAtTheTemporaryNamesAreSkipped() throws IOException {
        symlink(dir.resolve(".init_net.pb.kiln-tmp"), secret);
        symlink(dir.resolve(".predict_net.pb.kiln-tmp"), secret);
        model.save(init, predict);
        assertEquals(model, NetDefModel.load(init, predict));
        assertEquals("secret", Files.readString(secret));
        assertEquals(4, names(dir).size(), names(dir).toString());
    }

    @Test
    void aDirectoryThatIsALinkIsRefused() throws IOException {
        Path linked = symlink(root.resolve("linked"), outside);
        NetDefException e = assertThrows(NetDefException.class, () -> model.save(linked.resolve("init_net.pb"), predict));
        assertTrue(e.getMessage().contains("the directory " + linked + " of the init_net file " + linked.resolve("init_net.pb")
                + " is a symbolic link"), e.getMessage());
        assertEquals(Set.of("secret.txt"), names(outside));
        assertEquals(Set.of(), names(dir));
    }

    @Test
    void aHardLinkedTargetIsReplacedNotWrittenThrough() throws IOException {
        try {
            Files.createLink(init, secret);
        } catch (UnsupportedOperationException | IOException e) {
            assumeTrue(false, "hard links cannot be made here: " + e);
        }
        model.save(init, predict);
        assertEquals("secret", Files.readString(secret), "the other name's file is untouched: the rename replaced the directory entry");
        assertEquals(model, NetDefModel.load(init, predict));
    }

    @Test
    void aNetInTheWayOfADirectoryLeavesTheOtherNetUnwritten() throws IOException {
        Files.createDirectory(predict);
        NetDefException e = assertThrows(NetDefException.class, () -> model.save(init, predict));
        assertTrue(e.getMessage().endsWith("predict_net file " + predict + " exists and is not a regular file"), e.getMessage());
        assertEquals(Set.of("predict_net.pb"), names(dir));
    }

    private static Path symlink(Path link, Path target) throws IOException {
        try {
            return Files.createSymbolicLink(link, target);
        } catch (UnsupportedOperationException | IOException e) {
            assumeTrue(false, "symbolic links cannot be made here: " + e);
            return link;
        }
    }

    private static Set<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            Set<String> out = new TreeSet<>();
            s.forEach(p -> out.add(p.getFileName().toString()));
            return out;
        }
    }
}
