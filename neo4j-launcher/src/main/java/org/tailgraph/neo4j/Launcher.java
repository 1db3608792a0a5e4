package org.tailgraph.neo4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.Config;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.internal.helpers.HostnamePort;
import org.neo4j.io.ByteUnit;
import org.neo4j.io.fs.DefaultFileSystemAbstraction;
import org.neo4j.kernel.impl.security.User;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.memory.EmptyMemoryTracker;
import org.neo4j.logging.NullLogProvider;
import org.neo4j.server.security.SecureHasher;
import org.neo4j.server.security.SystemGraphCredential;
import org.neo4j.server.security.auth.CommunitySecurityModule;
import org.neo4j.server.security.auth.FileUserRepository;

/**
 * Runs Neo4j Community embedded with its Bolt connector on 127.0.0.1, for TailGraph's tests, CI
 * and users without Docker (driven by graph/neo4j_local.py).
 *
 * <p>Usage: {@code java -jar neo4j-launcher.jar HOME PORT PASSWORD_FILE [PAGECACHE]}. HOME holds
 * the data directory and logs; PORT 0 picks a free port. On the first start the password read
 * from PASSWORD_FILE becomes the {@code neo4j} user's initial password (what {@code neo4j-admin
 * dbms set-initial-password} does), so the server never answers with the default password. Once
 * Bolt listens, the launcher writes HOME/launcher.state ("pid port version", atomically); it shuts
 * the DBMS down cleanly on SIGTERM (a JVM shutdown hook) and removes the state file, and also when
 * the process named by TAILGRAPH_NEO4J_OWNER_PID (if set) is gone.
 */
public final class Launcher {
  private Launcher() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3 || args.length > 4) {
      System.err.println("usage: neo4j-launcher HOME PORT PASSWORD_FILE [PAGECACHE_MB]");
      System.exit(2);
    }
    Path home = Path.of(args[0]).toAbsolutePath();
    int port = Integer.parseInt(args[1]);
    String password = Files.readString(Path.of(args[2]), StandardCharsets.UTF_8).strip();
    long pageCacheMb = args.length == 4 ? Long.parseLong(args[3]) : 256;
    Path state = home.resolve("launcher.state");
    Files.deleteIfExists(state);

    setInitialPassword(home, password);

    DatabaseManagementService service =
        new DatabaseManagementServiceBuilder(home)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
            .setConfig(GraphDatabaseSettings.auth_enabled, true)
            .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
            .setConfig(GraphDatabaseSettings.keep_logical_logs, "1 files")
            .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(5))
            // Netty's graceful quiet period (seconds) would hold every shutdown for 10 s.
            .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
            .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(2))
            .setConfig(GraphDatabaseSettings.udc_enabled, false)
            .build();

    watchOwner();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    Files.deleteIfExists(state);
                  } catch (IOException ignored) {
                    // the state file is advisory; the pid check decides
                  }
                  service.shutdown();
                  stopped.countDown();
                },
                "tailgraph-neo4j-shutdown"));

    GraphDatabaseAPI system =
        (GraphDatabaseAPI) service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
    HostnamePort bolt =
        system
            .getDependencyResolver()
            .resolveDependency(ConnectorPortRegister.class)
            .getLocalAddress(ConnectorType.BOLT);
    String version = org.neo4j.kernel.internal.Version.getNeo4jVersion();
    Path partial = home.resolve("launcher.state.tmp");
    Files.writeString(
        partial,
        ProcessHandle.current().pid() + " " + bolt.getPort() + " " + version + "\n",
        StandardCharsets.UTF_8);
    Files.move(partial, state, StandardCopyOption.ATOMIC_MOVE);
    System.out.println("Neo4j " + version + " Bolt on 127.0.0.1:" + bolt.getPort());
    System.out.flush();
    stopped.await();
  }

  /**
   * With TAILGRAPH_NEO4J_OWNER_PID set (a test session), exit cleanly once that process is gone,
   * so a test run that is killed never leaves its server behind.
   */
  private static void watchOwner() {
    String owner = System.getenv("TAILGRAPH_NEO4J_OWNER_PID");
    if (owner == null || owner.isBlank()) {
      return;
    }
    long pid = Long.parseLong(owner.strip());
    Thread watcher =
        new Thread(
            () -> {
              while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                try {
                  Thread.sleep(2000);
                } catch (InterruptedException e) {
                  return;
                }
              }
              System.exit(0); // runs the shutdown hook: a clean DBMS shutdown
            },
            "tailgraph-neo4j-owner-watch");
    watcher.setDaemon(true);
    watcher.start();
  }

  /** Write the initial auth file unless the system database already exists (first start only). */
  private static void setInitialPassword(Path home, String password) throws Exception {
    if (password.isEmpty()) {
      throw new IllegalArgumentException("the password file is empty");
    }
    Config config = Config.newBuilder().set(GraphDatabaseSettings.neo4j_home, home).build();
    Path systemStore =
        config
            .get(GraphDatabaseSettings.data_directory)
            .resolve("databases")
            .resolve(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
    if (Files.exists(systemStore)) {
      return;
    }
    Path authFile = CommunitySecurityModule.getInitialUserRepositoryFile(config);
    Files.createDirectories(authFile.getParent());
    Files.deleteIfExists(authFile);
    try (DefaultFileSystemAbstraction fs = new DefaultFileSystemAbstraction()) {
      FileUserRepository users =
          new FileUserRepository(
              fs, authFile, NullLogProvider.getInstance(), EmptyMemoryTracker.INSTANCE);
      users.start();
      SystemGraphCredential credential =
          SystemGraphCredential.createCredentialForPassword(
              password.getBytes(StandardCharsets.UTF_8), new SecureHasher());
      users.create(new User("neo4j", null, credential, false, false));
      users.shutdown();
    }
  }
}
