package io.h3relay.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * What h3relay logs at WARN or ERROR on its own threads (names starting with {@code h3relay}: event loops,
 * workers) while installed: an exception that reached a pipeline's tail, an internal error. Attack and fuzz
 * tests assert that client input logs nothing at those levels (a log line per bad packet is a log flood).
 */
final class ProxyLog implements AutoCloseable {
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            if (e.getLevel().isGreaterOrEqual(Level.WARN) && e.getThreadName().startsWith("h3relay")) {
                lines.add(e.getLevel() + " [" + e.getThreadName() + "] " + e.getLoggerName() + ": "
                        + e.getFormattedMessage() + (e.getThrowableProxy() == null ? ""
                        : " " + e.getThrowableProxy().getClassName() + ": " + e.getThrowableProxy().getMessage()));
            }
        }
    };

    private ProxyLog() {
    }

    static ProxyLog install() {
        ProxyLog log = new ProxyLog();
        log.appender.start();
        root().addAppender(log.appender);
        return log;
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    /** The lines so far, at most {@code max}. */
    List<String> lines(int max) {
        List<String> l = new ArrayList<>(lines);
        return l.subList(0, Math.min(max, l.size()));
    }

    void clear() {
        lines.clear();
    }

    @Override
    public void close() {
        root().detachAppender(appender);
        appender.stop();
    }
}
