package dev.kiln.frontend;

import dev.kiln.ir.DType;
import dev.kiln.ir.IrException;
import org.junit.jupiter.api.Test;

import static dev.kiln.frontend.Expect.messageHas;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EagerErrorsTest {

    @Test
    void matmulShapeMismatchNamesOpAndBothShapes() {
        IrException e = assertThrows(IrException.class, () -> Tensor.zeros(2, 3).matmul(Tensor.zeros(4, 5)));
        messageHas(e, "matmul:", "[2, 3]", "[4, 5]", "inner dimensions 3 and 4 differ");
    }

    @Test
    void addShapeMismatchNamesOpAndBothShapes() {
        IrException e = assertThrows(IrException.class, () -> Tensor.zeros(2, 3).add(Tensor.zeros(4)));
        messageHas(e, "add:", "[2, 3]", "[4]");
    }

    @Test
    void opsWithoutAMeaningForADtypeSayWhich() {
        IrException e = assertThrows(IrException.class, () -> Tensor.zeros(DType.BOOL, 2).add(Tensor.zeros(DType.BOOL, 2)));
        messageHas(e, "add:", "bool");
    }

    @Test
    void conv2dChannelMismatchIsExplained() {
        IrException e = assertThrows(IrException.class, () -> F.conv2d(Tensor.zeros(1, 3, 8, 8), Tensor.zeros(4, 2, 3, 3),
                null, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}, 1));
        messageHas(e, "conv2d:", "3 channels");
    }

    @Test
    void itemOnManyElementsIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 2).item());
        messageHas(e, "item", "[2, 2]");
    }
}
