package dev.kiln.ir;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Golden texts that must parse, verify and print back unchanged. */
class IrTextGoldenTest {

    @BeforeAll
    static void registerTestOps() { TestOps.register(); }

    private static void roundTrips(String text) {
        Graph g = IrParser.parse(text);
        Verifier.verify(g);
        assertEquals(text, IrPrinter.print(g));
    }

    @Test
    void mlpWithControlFlow() {
        roundTrips("""
                graph @mlp(%x: f32[N, 784], %y: f32[N, 6, 28, 28], %t: int) weights(@fc1.weight: f32[512, 784], @fc1.bias: f32[512]) {
                  %0 = linear(%x, @fc1.weight, @fc1.bias) : f32[N, 512]
                  %1 = relu(%0) : f32[N, 512]
                  %2 = constant() {value = dense<f32[2]: [1.0, 2.5]>} : f32[2]
                  %3 = max_pool2d(%y) {kernel_size = [2, 2], stride = [2, 2]} : f32[N, 6, 14, 14]
                  %4 = constant() {value = true} : bool
                  %5 = if(%4) : f32[N, 512] {
                    yield(%1)
                  } {
                    %6 = neg(%1) : f32[N, 512]
                    yield(%6)
                  }
                  %7, %8 = loop(%t, %4, %1, %5) : f32[N, 512], f32[N, 512] {
                  ^(%i: int, %9: f32[N, 512], %10: f32[N, 512]):
                    %11 = add(%9, %10) : f32[N, 512]
                    %c = constant() {value = false} : bool
                    yield(%c, %11, %10)
                  }
                  return(%7, %8, %3, %2)
                }
                """);
    }

    @Test
    void symbolicSizesInShapeAttributes() {
        roundTrips("""
                graph @sizes(%x: f32[N, 16, 5, 5], %y: f32[B, 1, 5]) {
                  %0 = reshape(%x) {shape = [N, -1]} : f32[N, 400]
                  %1 = reshape(%x) {shape = [4, N, -1]} : f32[4, N, 100]
                  %2 = expand(%y) {shape = [B, 3, 5]} : f32[B, 3, 5]
                  %3 = expand(%y) {shape = [2, B, N, -1]} : f32[2, B, N, 5]
                  %4 = reshape(%x) {shape = [N, 16, -1]} : f32[N, 16, 25]
                  %5 = reshape(%x) {shape = [M, -1]} : f32[M, ?]
                  return(%0, %1, %2, %3, %4, %5)
                }
                """);
        Graph g = IrParser.parse("""
                graph @g(%x: f32[N, 4]) {
                  %0 = reshape(%x) {shape = [N, 2, 2]} : f32[N, 2, 2]
                  return(%0)
                }
                """);
        Op reshape = g.body().ops().get(0);
        assertEquals(Attribute.dims("N", 2L, 2L), reshape.attr("shape"));
        assertEquals(AttrKind.DIMS, reshape.attr("shape").kind());
        // a list without symbols stays plain ints
        assertEquals(Attribute.ints(2, 2), Attribute.dims(2L, 2));
    }

    @Test
    void shapeInferenceWithSymbolicEntries() {
        Shape in = Shape.of(Dim.sym("N"), Dim.of(16), Dim.of(5), Dim.of(5));
        assertEquals(Shape.of(Dim.sym("N"), Dim.of(400)), ShapeRules.reshape("reshape", in, new long[] {0, -1}, new String[] {"N", null}));
        assertEquals(Shape.of(Dim.sym("M"), Dim.UNKNOWN),
                ShapeRules.reshape("reshape", in, new long[] {0, -1}, new String[] {"M", null}));
        assertEquals(Shape.of(Dim.sym("N"), Dim.of(16), Dim.of(25)),
                ShapeRules.reshape("reshape", in, new long[] {0, 16, 25}, new String[] {"N", null, null}));
        IrException e = org.junit.jupiter.api.Assertions.assertThrows(IrException.class,
                () -> ShapeRules.reshape("reshape", in, new long[] {0, 16, 24}, new String[] {"N", null, null}));
        assertEquals("reshape: cannot reshape [N, 16, 5, 5] (400 elements) into [N, 16, 24] (384 elements)", e.getMessage());
        Shape one = Shape.of(Dim.sym("B"), Dim.of(1), Dim.of(5));
        assertEquals(Shape.of(Dim.sym("B"), Dim.of(3), Dim.of(5)),
                ShapeRules.expand("expand", one, new long[] {0, 3, 5}, new String[] {"B", null, null}));
        assertEquals(Shape.of(Dim.sym("B"), Dim.sym("K"), Dim.of(5)),
                ShapeRules.expand("expand", one, new long[] {-1, 0, -1}, new String[] {null, "K", null}));
    }

    @Test
    void noWeightsNoInputs() {
        roundTrips("""
                graph @consts() {
                  %0 = constant() {value = 3} : int
                  %1 = constant() {value = -0.5} : float
                  %2 = constant() {value = dense<i64[2, 2]: [1, -2, 9223372036854775807, -9223372036854775808]>} : i64[2, 2]
                  return(%0, %1, %2)
                }
                """);
    }

    @Test
    void everyDTypeInTensorConstants() {
        roundTrips("""
                graph @dtypes() {
                  %0 = constant() {value = dense<f32[5]: [nan, inf, -inf, -0.0, 1.0E-5]>} : f32[5]
                  %1 = constant() {value = dense<f64[3]: [0.1, 1.7976931348623157E308, 4.9E-324]>} : f64[3]
                  %2 = constant() {value = dense<f16[3]: [0.099975586, 65504.0, 5.9604645E-8]>} : f16[3]
                  %3 = constant() {value = dense<bf16[2]: [0.100097656, -3.3895314E38]>} : bf16[2]
                  %4 = constant() {value = dense<i32[2]: [-2147483648, 2147483647]>} : i32[2]
                  %5 = constant() {value = dense<i16[2]: [-32768, 32767]>} : i16[2]
                  %6 = constant() {value = dense<i8[2]: [-128, 127]>} : i8[2]
                  %7 = constant() {value = dense<u8[2]: [0, 255]>} : u8[2]
                  %8 = constant() {value = dense<bool[2, 1]: [true, false]>} : bool[2, 1]
                  %9 = constant() {value = dense<f32[]: [3.4028235E38]>} : f32[]
                  %10 = constant() {value = dense<f32[0, 3]: []>} : f32[0, 3]
                  return(%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10)
                }
                """);
    }

    @Test
    void attributeKindsInSchemaOrder() {
        roundTrips("""
                graph @attrs(%x: f32[2, 3]) {
                  %0 = test.note(%x) {label = "a \\"quoted\\" \\\\ label\\n\\u0001", dtype = bf16, scales = [0.5, nan, -inf], either = []} : f32[2, 3]
                  %1 = test.note(%0) {label = "", either = [1.5]} : f32[2, 3]
                  %2 = sum(%1) {axes = [], keepdim = true} : f32[1, 1]
                  %3 = softmax(%x) {axis = 0} : f32[2, 3]
                  %4 = flatten(%x) {start_dim = 1, end_dim = -1} : f32[2, 3]
                  %5 = reshape(%x) {shape = [-1]} : f32[6]
                  %6 = permute(%x) {perm = [1, 0]} : f32[3, 2]
                  return(%2, %3, %4, %5, %6)
                }
                """);
    }

    @Test
    void namesKeepHintsAndNumberTheRest() {
        roundTrips("""
                graph @names(%x: f32[N, 4], %0: f32[4]) weights(@0.weight: f32[3, 4], @"odd name/w": f32[3]) {
                  %h = add(%x, %0) : f32[N, 4]
                  %1 = linear(%h, @0.weight, @"odd name/w") : f32[N, 3]
                  %out_2 = sigmoid(%1) : f32[N, 3]
                  return(%out_2)
                }
                """);
    }

    @Test
    void nestedRegionsAndOuterValues() {
        roundTrips("""
                graph @nested(%x: f32[?, 2], %c: bool) {
                  %n = constant() {value = 4} : int
                  %0, %1 = if(%c) : f32[?, 2], int {
                    %2 = loop(%n, %c, %x) : f32[?, 2] {
                    ^(%i: int, %acc: f32[?, 2]):
                      %3 = if(%c) : f32[?, 2] {
                        %4 = tanh(%acc) : f32[?, 2]
                        yield(%4)
                      } {
                        yield(%x)
                      }
                      yield(%c, %3)
                    }
                    yield(%2, %n)
                  } {
                    yield(%x, %n)
                  }
                  loop(%n, %c) {
                  ^(%5: int):
                    yield(%c)
                  }
                  if(%c) {
                    yield()
                  } {
                    yield()
                  }
                  return(%0, %1)
                }
                """);
    }

    @Test
    void convAndPoolWithSymbolicBatch() {
        roundTrips("""
                graph @cnn(%img: f32[N, 1, 28, 28]) weights(@conv.weight: f32[6, 1, 5, 5], @conv.bias: f32[6]) {
                  %0 = conv2d(%img, @conv.weight, @conv.bias) {padding = [2, 2]} : f32[N, 6, 28, 28]
                  %1 = max_pool2d(%0) {kernel_size = [2, 2], stride = [2, 2], ceil_mode = true} : f32[N, 6, 14, 14]
                  %2 = avg_pool2d(%1) {kernel_size = [2, 2], stride = [1, 1], padding = [1, 1], count_include_pad = false} : f32[N, 6, 15, 15]
                  %3 = flatten(%2) {start_dim = 1} : f32[N, 1350]
                  %4 = log_softmax(%3) : f32[N, 1350]
                  %5 = mean(%4) {axes = [1]} : f32[N]
                  return(%5)
                }
                """);
    }
}
