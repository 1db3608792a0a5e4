package org.tailgraph.neo4j;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
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
import org.neo4j.kernel.api.procedure.GlobalProcedures;
import org.neo4j.io.fs.DefaultFileSystemAbstraction;
import org.neo4j.kernel.impl.security.User;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.memory.EmptyMemoryTracker;
import org.neo4j.logging.NullLogProvider;
import org.neo4j.procedure.Procedure;
import org.neo4j.procedure.UserAggregationFunction;
import org.neo4j.procedure.UserFunction;
import org.neo4j.server.security.SecureHasher;
import org.neo4j.server.security.SystemGraphCredential;
import org.neo4j.server.security.auth.CommunitySecurityModule;
import org.neo4j.server.security.auth.FileUserRepository;

/**
 * Runs Neo4j Community embedded with its Bolt connector on 127.0.0.1, for TailGraph's tests, CI
 * and users without Docker (driven by graph/neo4j_local.py).
 *
 * <p>Usage: {@code java -jar neo4j-launcher.jar HOME PORT PASSWORD_FILE [PAGECACHE] [--gds DIR]}. HOME holds
 * the data directory and logs; PORT 0 picks a free port. On the first start the password read
 * from PASSWORD_FILE becomes the {@code neo4j} user's initial password (what {@code neo4j-admin
 * dbms set-initial-password} does), so the server never answers with the default password. Once
 * Bolt listens, the launcher writes HOME/launcher.state ("pid port version", atomically); it shuts
 * the DBMS down cleanly on SIGTERM (a JVM shutdown hook) and removes the state file, and also when
 * the process named by TAILGRAPH_NEO4J_OWNER_PID (if set) is gone.
 *
 * <p>With {@code --gds DIR} the Graph Data Science library (built into DIR by the optional
 * {@code gds/pom.xml}) is served too. Its jars must be on the launcher's own classpath ({@code
 * java -cp neo4j-launcher.jar:DIR/* org.tailgraph.neo4j.Launcher ...}), not in a plugins
 * directory: Neo4j loads plugin jars in a class loader of their own, so the procedures' field
 * types would be other classes than the components GDS's kernel extension (found on the
 * classpath) registers, and no procedure could be injected. Instead the launcher registers every
 * class of DIR's jars that declares a procedure or function with the DBMS's GlobalProcedures,
 * and lets {@code gds.*} use the unrestricted components GDS needs.
 */
public final class Launcher {
  private Launcher() {}

  public static void main(String[] args) throws Exception {
    List<String> positional = new ArrayList<>(Arrays.asList(args));
    Path gds = null;
    int flag = positional.indexOf("--gds");
    if (flag >= 0 && flag + 1 < positional.size()) {
      gds = Path.of(positional.get(flag + 1)).toAbsolutePath();
      positional.subList(flag, flag + 2).clear();
    }
    if (positional.size() < 3 || positional.size() > 4 || positional.contains("--gds")) {
      System.err.println("usage: neo4j-launcher HOME PORT PASSWORD_FILE [PAGECACHE_MB] [--gds DIR]");
      System.exit(2);
    }
    if (gds != null) {
      requireGdsOnClasspath(gds);
    }
    Path home = Path.of(positional.get(0)).toAbsolutePath();
    int port = Integer.parseInt(positional.get(1));
    String password = Files.readString(Path.of(positional.get(2)), StandardCharsets.UTF_8).strip();
    long pageCacheMb = positional.size() == 4 ? Long.parseLong(positional.get(3)) : 256;
    Path state = home.resolve("launcher.state");
    Files.deleteIfExists(state);

    setInitialPassword(home, password);

    DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home);
    if (gds != null) {
      builder.setConfig(GraphDatabaseSettings.procedure_unrestricted, List.of("gds.*"));
    }
    DatabaseManagementService service =
        builder
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
    if (gds != null) {
      try {
        int registered =
            registerProcedures(
                gds, system.getDependencyResolver().resolveDependency(GlobalProcedures.class));
        System.out.println("GDS: " + registered + " procedure and function classes from " + gds);
      } catch (Exception e) {
        // The DBMS's threads would keep a half-started server alive: say why and exit (the
        // shutdown hook shuts the DBMS down cleanly).
        e.printStackTrace();
        System.err.println("could not register the GDS procedures from " + gds + ": " + e);
        System.exit(1);
      }
    }
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

  /** Fail early, and clearly, when --gds is given but DIR's jars are not on the classpath. */
  private static void requireGdsOnClasspath(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(
          "--gds " + dir + ": no such directory (build it: make neo4j-gds)");
    }
    try {
      Class.forName("org.neo4j.gds.procedures.GraphDataScienceProcedures");
    } catch (ClassNotFoundException e) {
      throw new IllegalArgumentException(
          "--gds " + dir + ": GDS is not on the classpath; start with "
              + "java -cp neo4j-launcher.jar:" + dir + "/* org.tailgraph.neo4j.Launcher ...",
          e);
    }
  }

  private static final byte[][] ANNOTATIONS = {
    descriptor(Procedure.class), descriptor(UserFunction.class), descriptor(UserAggregationFunction.class)
  };

  private static byte[] descriptor(Class<?> annotation) {
    return ("L" + annotation.getName().replace('.', '/') + ";").getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Register, with {@code procedures}, every class in DIR's jars that has a method annotated
   * {@code @Procedure}, {@code @UserFunction} or {@code @UserAggregationFunction} (what Neo4j's
   * plugin loader would find, here from the one application class loader). Only classes whose
   * bytes name one of those annotations are loaded. Returns the number of classes registered.
   */
  private static int registerProcedures(Path dir, GlobalProcedures procedures) throws Exception {
    List<Path> jars;
    try (Stream<Path> listing = Files.list(dir)) {
      jars = listing.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
    }
    ClassLoader loader = Launcher.class.getClassLoader();
    int registered = 0;
    for (Path jar : jars) {
      try (JarFile file = new JarFile(jar.toFile())) {
        Enumeration<JarEntry> entries = file.entries();
        while (entries.hasMoreElements()) {
          JarEntry entry = entries.nextElement();
          String name = entry.getName();
          if (!name.endsWith(".class") || name.contains("$") || name.startsWith("META-INF/")) {
            continue;
          }
          byte[] bytes;
          try (InputStream in = file.getInputStream(entry)) {
            bytes = in.readAllBytes();
          }
          if (Arrays.stream(ANNOTATIONS).noneMatch(a -> contains(bytes, a))) {
            continue;
          }
          Class<?> type =
              Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false, loader);
          boolean procedure = false;
          boolean function = false;
          boolean aggregation = false;
          for (Method method : type.getDeclaredMethods()) {
            procedure |= method.isAnnotationPresent(Procedure.class);
            function |= method.isAnnotationPresent(UserFunction.class);
            aggregation |= method.isAnnotationPresent(UserAggregationFunction.class);
          }
          if (procedure) {
            procedures.registerProcedure(type);
          }
          if (function) {
            procedures.registerFunction(type);
          }
          if (aggregation) {
            procedures.registerAggregationFunction(type);
          }
          registered += (procedure || function || aggregation) ? 1 : 0;
        }
      }
    }
    return registered;
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
