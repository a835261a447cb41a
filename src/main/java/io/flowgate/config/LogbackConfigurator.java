package io.flowgate.config;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.fieldnames.LogstashFieldNames;
import org.slf4j.Logger;

/**
 * flowgate's logging set-up, in code: logback finds it through {@code META-INF/services} before it looks for XML. It
 * replaces a {@code logback.xml} whose parsing (an XML parser and logback's configuration model, all cold code) took
 * ~100 ms of a ~1 s start to ready.
 *
 * <p>One console appender: JSON, one object a line (logstash encoder, no caller data, no level value or version
 * fields), or TEXT ({@code 12:00:00.000 INFO  i.f.b.Migrations - ...}), as the system property
 * {@code FLOWGATE_LOG_APPENDER} says (Main sets it from {@code logging.json} before the first logger; JSON when unset).
 * INFO and up; Netty, Vert.x and the embedded servers' library at WARN; Micrometer's registry at ERROR (vertx-micrometer
 * registers one untagged gauge per client and Micrometer warns about the repeats).
 *
 * <p>A configuration file still wins: with {@code -Dlogback.configurationFile=...}, or a {@code logback-test.xml} on the
 * class path (the tests'), this steps aside and logback reads that file as usual.
 */
public final class LogbackConfigurator extends ContextAwareBase implements Configurator {
  /** The system property that picks the appender, JSON or TEXT; set before the first logger exists. */
  public static final String APPENDER_PROPERTY = "FLOWGATE_LOG_APPENDER";
  private static final String TEXT_PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || LogbackConfigurator.class.getClassLoader().getResource("logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    apply(context, !"TEXT".equals(System.getProperty(APPENDER_PROPERTY)));
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** Sets {@code context} up as the class comment says: the JSON or the TEXT console appender. */
  static void apply(LoggerContext context, boolean json) {
    Encoder<ILoggingEvent> encoder = json ? jsonEncoder() : textEncoder();
    encoder.setContext(context);
    encoder.start();
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName(json ? "JSON" : "TEXT");
    console.setEncoder(encoder);
    console.start();

    context.getLogger("io.netty").setLevel(Level.WARN);
    context.getLogger("io.vertx").setLevel(Level.WARN);
    context.getLogger("io.zonky").setLevel(Level.WARN);
    context.getLogger("io.micrometer.core.instrument.MeterRegistry").setLevel(Level.ERROR);
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(console);
  }

  private static Encoder<ILoggingEvent> jsonEncoder() {
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setIncludeCallerData(false);
    LogstashFieldNames names = new LogstashFieldNames();
    names.setLevelValue("[ignore]");
    names.setVersion("[ignore]");
    encoder.setFieldNames(names);
    return encoder;
  }

  private static Encoder<ILoggingEvent> textEncoder() {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setPattern(TEXT_PATTERN);
    return encoder;
  }
}
