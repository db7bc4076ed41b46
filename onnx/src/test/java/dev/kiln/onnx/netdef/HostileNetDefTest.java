package dev.kiln.onnx.netdef;

import dev.kiln.onnx.caffe2.proto.Caffe2Protos.NetDef;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.kiln.onnx.netdef.NetDefImporterTest.f32;
import static dev.kiln.onnx.netdef.NetDefImporterTest.net;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hostile NetDef fills (issue 13): element counts that overflow or exceed the limit are errors, never wraps. */
class HostileNetDefTest {

    private static final NetDef READS_W = net("op { input: \"w\" output: \"y\" type: \"Relu\" } external_input: \"w\" external_output: \"y\"");

    private static NetDefException importInit(String initOps) {
        return assertThrows(NetDefException.class, () -> NetDefImporter.importNet(net(initOps), READS_W, Map.of()));
    }

    @Test
    void givenTensorFillShapeThatWrapsNegativeIsAnError() {
        NetDefException e = importInit("op { output: \"w\" type: \"GivenTensorFill\" arg { name: \"shape\" ints: 150 ints: 9223372036854775807 }"
                + " arg { name: \"values\" floats: 1 } }");
        assertEquals("init_net op #0 (GivenTensorFill -> 'w'): shape shape [150, 9223372036854775807] has more elements than a 64-bit"
                + " count holds", e.getMessage());
    }

    /** [4, 2^62 + 1] wrapped to 4 elements and imported as f32[4, 4611686018427387905] over 16 bytes. */
    @Test
    void givenTensorFillShapeThatWrapsToASmallCountIsAnError() {
        NetDefException e = importInit("op { output: \"w\" type: \"GivenTensorFill\" arg { name: \"shape\" ints: 4 ints: 4611686018427387905 }"
                + " arg { name: \"values\" floats: 1 floats: 2 floats: 3 floats: 4 } }");
        assertEquals("init_net op #0 (GivenTensorFill -> 'w'): shape shape [4, 4611686018427387905] has more elements than a 64-bit"
                + " count holds", e.getMessage());
    }

    @Test
    void fillsAreCheckedAgainstTheirValuesAndTheLimitBeforeAllocating() {
        NetDefException missing = importInit("op { output: \"w\" type: \"GivenTensorFill\" arg { name: \"shape\" ints: 268435456 }"
                + " arg { name: \"values\" floats: 1 } }");
        assertEquals("init_net op #0 (GivenTensorFill -> 'w'): 'values' has 1 floats but shape [268435456] needs 268435456", missing.getMessage());
        NetDefException huge = importInit("op { output: \"w\" type: \"ConstantFill\" arg { name: \"shape\" ints: 1073741824 ints: 4 } }");
        assertTrue(huge.getMessage().startsWith("init_net op #0 (ConstantFill -> 'w'): shape f32 [1073741824, 4] needs 17179869184 bytes"
                + " (16.0 GiB), more than the tensor size limit of"), huge.getMessage());
    }

    @Test
    void aConstantFillWithinTheLimitStillImports() {
        ImportedNet ok = NetDefImporter.importNet(net("op { output: \"w\" type: \"ConstantFill\" arg { name: \"shape\" ints: 2 ints: 3 }"
                + " arg { name: \"value\" f: 1.5 } }"), READS_W, Map.of());
        assertEquals(f32(2, 3), ok.graph().weights().get("w").type());
    }
}
