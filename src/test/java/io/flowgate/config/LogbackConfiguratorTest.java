package io.flowgate.config;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

class LogbackConfiguratorTest {

  @Test
  void json_writes_one_object_a_line_without_level_value_or_version() {
    LoggerContext context = newContext();
    LogbackConfigurator.apply(context, true);

    Appender<ILoggingEvent> appender = onlyRootAppender(context);
    assertThat(appender.getName()).isEqualTo("JSON");
    assertThat(appender.isStarted()).isTrue();
    String line = encode(appender, context, "schema at version 8");

    assertThat(line).endsWith("\n").doesNotContain("\n{");
    JsonObject json = new JsonObject(line.trim());
    assertThat(json.getString("message")).isEqualTo("schema at version 8");
    assertThat(json.getString("level")).isEqualTo("INFO");
    assertThat(json.getString("logger_name")).isEqualTo("io.flowgate.backends.Migrations");
    assertThat(json.containsKey("@timestamp")).isTrue();
    assertThat(json.containsKey("level_value")).isFalse();
    assertThat(json.containsKey("@version")).isFalse();
    assertThat(json.containsKey("caller_class_name")).isFalse();
  }

  @Test
  void text_writes_the_short_pattern() {
    LoggerContext context = newContext();
    LogbackConfigurator.apply(context, false);

    Appender<ILoggingEvent> appender = onlyRootAppender(context);
    assertThat(appender.getName()).isEqualTo("TEXT");
    assertThat(encode(appender, context, "schema at version 8"))
        .matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  i\\.f\\.b\\.Migrations - schema at version 8\\n");
  }

  @Test
  void libraries_are_quiet_and_root_is_info() {
    LoggerContext context = newContext();
    LogbackConfigurator.apply(context, false);

    assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.INFO);
    assertThat(context.getLogger("io.netty.channel.Foo").getEffectiveLevel()).isEqualTo(Level.WARN);
    assertThat(context.getLogger("io.vertx.core.Bar").getEffectiveLevel()).isEqualTo(Level.WARN);
    assertThat(context.getLogger("io.zonky.test.db").getEffectiveLevel()).isEqualTo(Level.WARN);
    assertThat(context.getLogger("io.micrometer.core.instrument.MeterRegistry").getEffectiveLevel())
        .isEqualTo(Level.ERROR);
    assertThat(context.getLogger("io.flowgate.Main").getEffectiveLevel()).isEqualTo(Level.INFO);
  }

  @Test
  void logback_finds_it_and_it_steps_aside_for_a_configuration_file() {
    List<String> found = new ArrayList<>();
    ServiceLoader.load(Configurator.class).forEach(c -> found.add(c.getClass().getName()));
    assertThat(found).contains(LogbackConfigurator.class.getName());

    // The tests' logback-test.xml is on the class path: the file wins, and nothing is configured here.
    LoggerContext context = newContext();
    assertThat(new LogbackConfigurator().configure(context)).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
  }

  /** A context of its own, not the tests' one, with the MDC adapter slf4j's provider would give it. */
  private static LoggerContext newContext() {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    return context;
  }

  private static Appender<ILoggingEvent> onlyRootAppender(LoggerContext context) {
    List<Appender<ILoggingEvent>> appenders = new ArrayList<>();
    context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().forEachRemaining(appenders::add);
    assertThat(appenders).hasSize(1);
    return appenders.get(0);
  }

  private static String encode(Appender<ILoggingEvent> appender, LoggerContext context, String message) {
    ch.qos.logback.classic.Logger logger = context.getLogger("io.flowgate.backends.Migrations");
    LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.INFO, message, null, null);
    byte[] bytes = ((OutputStreamAppender<ILoggingEvent>) appender).getEncoder().encode(event);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
