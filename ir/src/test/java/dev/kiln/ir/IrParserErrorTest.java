package dev.kiln.ir;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Malformed text is rejected with the 1-based line and column of the problem and a clear message. */
class IrParserErrorTest {

    private static void fails(String text, int line, int column, String messagePart) {
        ParseException e = assertThrows(ParseException.class, () -> IrParser.parse(text));
        assertEquals(line, e.line(), () -> "line of: " + e.getMessage());
        assertEquals(column, e.column(), () -> "column of: " + e.getMessage());
        assertTrue(e.getMessage().startsWith("line " + line + ", column " + column + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(messagePart), () -> "expected '" + messagePart + "' in: " + e.getMessage());
    }

    @Test
    void symbolsOnlyInSizeLists() {
        fails("""
                graph @g(%x: f32[N, 4]) {
                  %0 = permute(%x) {perm = [N, 0]} : f32[4, N]
                  return(%0)
                }
                """, 2, 29, "symbolic sizes are allowed only in size lists");
    }

    @Test
    void missingCloseParen() {
        fails("""
                graph @g(%x: f32[2]) {
                  %0 = relu(%x {
                  return(%0)
                }
                """, 2, 16, "expected ')' but found '{'");
    }

    @Test
    void undefinedValue() {
        fails("""
                graph @g(%x: f32[2]) {
                  %0 = relu(%y) : f32[2]
                  return(%0)
                }
                """, 2, 13, "undefined value %y");
    }

    @Test
    void undefinedWeight() {
        fails("""
                graph @g(%x: f32[2, 3]) weights(@w: f32[4, 3]) {
                  %0 = linear(%x, @v) : f32[2, 4]
                  return(%0)
                }
                """, 2, 19, "undefined weight @v");
    }

    @Test
    void duplicateDefinition() {
        fails("""
                graph @g(%x: f32[2]) {
                  %a = relu(%x) : f32[2]
                  %a = neg(%x) : f32[2]
                  return(%a)
                }
                """, 3, 3, "duplicate definition of %a (first defined at line 2, column 3)");
    }

    @Test
    void duplicateOfInput() {
        fails("graph @g(%x: f32[2], %x: f32[3]) {\n  return(%x)\n}\n", 1, 22, "duplicate definition of %x");
    }

    @Test
    void unknownOp() {
        fails("""
                graph @g(%x: f32[2]) {
                  %0 = frobnicate(%x) : f32[2]
                  return(%0)
                }
                """, 2, 8, "unknown op 'frobnicate'");
    }

    @Test
    void printedTypeDiffersFromInferred() {
        fails("""
                graph @g(%x: f32[N, 3]) {
                  %0 = relu(%x) : f32[N, 4]
                  return(%0)
                }
                """, 2, 19, "relu: result 0 is written as f32[N, 4] but its type is inferred as f32[N, 3]");
    }

    @Test
    void shapeErrorFromInference() {
        fails("""
                graph @g(%x: f32[2, 3], %y: f32[4, 5]) {
                  %0 = matmul(%x, %y) : f32[2, 5]
                  return(%0)
                }
                """, 2, 8, "matmul: shapes [2, 3] and [4, 5] are incompatible");
    }

    @Test
    void convWeightWithSymbolicDims() {
        fails("""
                graph @g(%x: f32[1, 1, 4, 4], %w: f32[K, 1, 3, 3]) {
                  %0 = conv2d(%x, %w) : f32[1, ?, 2, 2]
                  return(%0)
                }
                """, 2, 8, "conv2d: weight must have a static shape, got f32[K, 1, 3, 3]");
    }

    @Test
    void unknownAttribute() {
        fails("""
                graph @g(%x: f32[2]) {
                  %0 = softmax(%x) {dim = 0} : f32[2]
                  return(%0)
                }
                """, 2, 21, "softmax: unknown attribute 'dim'; known: [axis]");
    }

    @Test
    void wrongAttributeKind() {
        fails("""
                graph @g(%x: f32[2]) {
                  %0 = softmax(%x) {axis = 0.5} : f32[2]
                  return(%0)
                }
                """, 2, 28, "softmax: attribute 'axis' must be [int], got float");
    }

    @Test
    void missingRequiredAttribute() {
        fails("""
                graph @g(%x: f32[1, 1, 4, 4]) {
                  %0 = max_pool2d(%x) {stride = [2, 2]} : f32[1, 1, 2, 2]
                  return(%0)
                }
                """, 2, 8, "max_pool2d: missing required attribute 'kernel_size'");
    }

    @Test
    void valueFromSiblingRegionIsNotVisible() {
        fails("""
                graph @g(%x: f32[2], %c: bool) {
                  %0 = if(%c) : f32[2] {
                    %inner = neg(%x) : f32[2]
                    yield(%inner)
                  } {
                    yield(%x)
                  }
                  return(%inner)
                }
                """, 8, 10, "%inner is not visible here: it is defined at line 3 inside a region");
    }

    @Test
    void unterminatedBlock() {
        fails("graph @g(%x: f32[2]) {\n  return(%x)\n", 3, 1,
                "expected '}' to close the block opened at line 1, column 22 but found end of input");
    }

    @Test
    void badDimension() {
        fails("graph @g(%x: f32[2, -1]) {\n  return(%x)\n}\n", 1, 21, "dimension size must be >= 0");
    }

    @Test
    void unknownDType() {
        fails("graph @g(%x: f33[2]) {\n  return(%x)\n}\n", 1, 14, "unknown dtype 'f33'");
    }

    @Test
    void tensorElementCountMismatch() {
        fails("""
                graph @g() {
                  %0 = constant() {value = dense<f32[2, 2]: [1.0, 2.0, 3.0]>} : f32[2, 2]
                  return(%0)
                }
                """, 2, 45, "dense<f32[2, 2]> needs 4 elements, got 3");
    }

    @Test
    void tensorElementOutOfRange() {
        fails("""
                graph @g() {
                  %0 = constant() {value = dense<u8[2]: [1, 256]>} : u8[2]
                  return(%0)
                }
                """, 2, 45, "element 256 is out of range for u8");
    }

    @Test
    void resultNamesWithoutTypes() {
        fails("""
                graph @g(%x: f32[2]) {
                  %0 = relu(%x)
                  return(%0)
                }
                """, 3, 3, "expected ':' and the result types of relu but found 'return'");
    }

    @Test
    void unnamedResult() {
        fails("""
                graph @g(%x: f32[2]) {
                  relu(%x)
                  return(%x)
                }
                """, 2, 3, "relu has 1 result(s) but 0 are named");
    }

    @Test
    void regionOnOpWithoutRegions() {
        fails("""
                graph @g(%x: f32[2]) {
                  %0 = relu(%x) : f32[2] {
                    yield(%x)
                  }
                  return(%0)
                }
                """, 2, 26, "relu has 0 region(s) but another '{' follows");
    }

    @Test
    void badCharacterAndUnterminatedString() {
        fails("graph @g(%x: f32[2]) {\n  %0 = relu(%x) : f32[2] $\n}\n", 2, 26, "unexpected character '$'");
        fails("graph @g(%x: f32[2]) {\n  %0 = test.note(%x) {label = \"abc} : f32[2]\n}\n", 2, 31, "unterminated string");
    }

    @Test
    void trailingInput() {
        fails("graph @g(%x: f32[2]) {\n  return(%x)\n}\ngraph\n", 4, 1, "expected end of input");
    }

    @Test
    void scalarWeight() {
        fails("graph @g() weights(@w: int) {\n  return()\n}\n", 1, 24, "weight @w must have a tensor type, got int");
    }

    @Test
    void commentsAreIgnored() {
        Graph g = IrParser.parse("""
                // a comment before the graph
                graph @g(%x: f32[2]) { // trailing comment
                  return(%x) // outputs
                }
                """);
        assertEquals("graph @g(%x: f32[2]) {\n  return(%x)\n}\n", IrPrinter.print(g));
    }
}
