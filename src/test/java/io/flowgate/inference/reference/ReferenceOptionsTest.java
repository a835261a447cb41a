package io.flowgate.inference.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code reference-inference} command line and the boot-time arithmetic, without a server. */
class ReferenceOptionsTest {
  private static final Map<String, String> NO_ENV = Map.of();

  @Test
  void reads_every_option() {
    ReferenceOptions o = ReferenceOptions.parse(
        List.of("--port", "9001", "--boot-seconds", "5", "--host", "0.0.0.0", "--instances", "3"), NO_ENV);
    assertThat(o).isEqualTo(new ReferenceOptions("0.0.0.0", 9001, Duration.ofSeconds(5), 3));
  }

  @Test
  void accepts_the_name_equals_value_form_and_fractional_boot_seconds() {
    ReferenceOptions o = ReferenceOptions.parse(List.of("--port=0", "--boot-seconds=0.5"), NO_ENV);
    assertThat(o.port()).isZero();
    assertThat(o.boot()).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void defaults_to_loopback_no_boot_time_and_one_instance_per_core() {
    ReferenceOptions o = ReferenceOptions.parse(List.of("--port", "9001"), NO_ENV);
    assertThat(o.host()).isEqualTo("127.0.0.1");
    assertThat(o.boot()).isZero();
    assertThat(o.instances()).isEqualTo(Runtime.getRuntime().availableProcessors());
  }

  @Test
  void takes_the_port_from_PORT_when_no_flag_is_given() {
    assertThat(ReferenceOptions.parse(List.of(), Map.of("PORT", "9123")).port()).isEqualTo(9123);
  }

  @Test
  void the_port_flag_wins_over_PORT() {
    assertThat(ReferenceOptions.parse(List.of("--port", "9001"), Map.of("PORT", "9123")).port()).isEqualTo(9001);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "''                                | no port",
      "--port                            | --port needs a value",
      "--port abc                        | --port must be a port number",
      "--port 70000                      | --port must be a port number",
      "--port -1                         | --port must be a port number",
      "--port 1 --port 2                 | more than once",
      "--port 1 --boot-seconds x         | --boot-seconds must be a number",
      "--port 1 --boot-seconds -1        | --boot-seconds must be a number",
      "--port 1 --boot-seconds NaN       | --boot-seconds must be a number",
      "--port 1 --instances 0            | --instances must be a whole number",
      "--port 1 --host=                  | --host must not be empty",
      "--port 1 --verbose                | unknown argument '--verbose'",
      "--port 1 extra                    | unknown argument 'extra'"})
  void refuses_bad_arguments_with_a_reason(String args, String reason) {
    List<String> list = args.isBlank() ? List.of() : List.of(args.trim().split(" +"));
    assertThatThrownBy(() -> ReferenceOptions.parse(list, NO_ENV))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(reason);
  }

  @Test
  void refuses_a_PORT_that_is_not_a_port() {
    assertThatThrownBy(() -> ReferenceOptions.parse(List.of(), Map.of("PORT", "http")))
        .hasMessageContaining("PORT must be a port number");
  }

  @Test
  void retry_after_is_the_seconds_left_rounded_up_and_at_least_one() {
    long second = 1_000_000_000L;
    BootState state = new BootState(0, 3 * second);
    assertThat(state.retryAfterSeconds(0)).isEqualTo(3);
    assertThat(state.retryAfterSeconds(second / 2)).isEqualTo(3);
    assertThat(state.retryAfterSeconds(2 * second + 1)).isEqualTo(1);
    assertThat(state.retryAfterSeconds(10 * second)).isEqualTo(1);
  }

  @Test
  void ready_needs_both_the_trained_model_and_the_boot_time() {
    long second = 1_000_000_000L;
    BootState state = new BootState(0, second);
    assertThat(state.readyModel(2 * second)).as("no model yet").isNull();
    IrisModel model = IrisModel.train();
    state.modelTrained(model);
    assertThat(state.readyModel(second / 2)).as("boot time not passed").isNull();
    assertThat(state.readyModel(second)).isSameAs(model);
  }
}
