package org.workshopfleet.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.workshopfleet.cloud.ec2.fake.InstanceBackend;
import org.workshopfleet.provision.TestMachines;
import org.workshopfleet.ssh.SshKeyPair;

/**
 * Test stand-in for EC2 instances: every instance the {@link org.workshopfleet.cloud.ec2.fake.Ec2Fake} launches becomes
 * a real loopback sshd "machine" ({@link TestMachines}) on its own 127.1.x.y address, presenting the ed25519 host key
 * found in the instance's raw cloud-config ({@code ssh_keys.ed25519_private}) and authorising the key listed under
 * {@code ssh_authorized_keys} — what cloud-init would do on a real machine — or, for a Lightsail launch script, the
 * host key and login key that script installs. It also watches the invariant "no
 * attendee ever has two live instances at once" (attendee read from the {@code hostname:} line's {@code -NN}).
 *
 * <p>A Lightsail machine first answers with its image's own host key: Lightsail runs the launch script in cloud-init's
 * final stage, after sshd started with the keys generated at first boot, and the script restarts sshd with the pinned
 * key at its end. So for a launch script an "image" sshd (a generated host key, a login key that is not the workshop's,
 * {@code LogLevel VERBOSE} into {@code <dir>/<instance>/image-sshd/sshd.log}) answers first, for
 * {@link #launchScriptTakes} (default {@value #DEFAULT_LAUNCH_SCRIPT_MILLIS} ms), then the machine itself.
 */
public final class LoopbackInstances implements InstanceBackend, AutoCloseable {

    private static final AtomicInteger NEXT_ADDRESS = new AtomicInteger();
    static final long DEFAULT_LAUNCH_SCRIPT_MILLIS = 300;

    private final Path dir;
    private final int port;
    private final SshKeyPair login;
    private final Map<String, TestMachines.Box> boxes = new HashMap<>();
    private final Map<String, Integer> attendeeOf = new HashMap<>();
    private final Map<Integer, Set<String>> liveByAttendee = new HashMap<>();
    private final List<String> violations = new ArrayList<>();
    private final Set<Integer> impostors = new TreeSet<>();
    private final Map<Integer, String> boxByAttendee = new HashMap<>();
    private final Map<Integer, Long> uploadCuts = new HashMap<>();
    private final Map<String, CuttingRelay> relays = new HashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger cuts = new java.util.concurrent.atomic.AtomicInteger();
    private final Map<String, org.workshopfleet.ssh.LoopbackSshd> imageSshds = new HashMap<>();
    private final Map<String, Path> imageSshdLogs = new HashMap<>();
    private java.time.Duration launchScriptTime = java.time.Duration.ofMillis(DEFAULT_LAUNCH_SCRIPT_MILLIS);
    private int booted;

    /** How long a Lightsail machine answers with its image's host key before its launch script installs the pinned one. */
    public synchronized LoopbackInstances launchScriptTakes(java.time.Duration time) {
        launchScriptTime = time;
        return this;
    }

    /** The log of the sshd that answered with the image's host key for the attendee's latest instance, if one did. */
    public synchronized Path imageSshdLog(int attendee) {
        String id = latestByAttendee.get(attendee);
        return id == null ? null : imageSshdLogs.get(id);
    }

    private final Map<Integer, String> latestByAttendee = new HashMap<>();

    /**
     * Machines of these attendees sit behind a {@link CuttingRelay} that cuts their first SSH connection once the
     * client has sent the given number of bytes (attendee → bytes); every instance booted for the attendee gets one.
     */
    public synchronized LoopbackInstances cutUploads(Map<Integer, Long> afterBytes) {
        uploadCuts.putAll(afterBytes);
        return this;
    }

    /** The SSH port every machine listens on. */
    public int port() {
        return port;
    }

    /** Connections cut by the relays so far. */
    public int connectionsCut() {
        return cuts.get();
    }

    /** Machines of these attendees present a freshly generated host key instead of the one in their user data. */
    public synchronized LoopbackInstances impostors(Integer... attendees) {
        impostors.addAll(List.of(attendees));
        return this;
    }

    /** The live machine of an attendee, or null. */
    public synchronized TestMachines.Box boxOf(int attendee) {
        String id = boxByAttendee.get(attendee);
        return id == null ? null : boxes.get(id);
    }

    /**
     * @param login the workshop's login key (its public line must be the one in the user data; the private half is
     *              never taken from user data)
     */
    public LoopbackInstances(Path dir, int port, SshKeyPair login) {
        this.dir = dir;
        this.port = port;
        this.login = login;
    }

    @Override
    public synchronized String boot(String instanceId, String rawUserData) {
        CloudConfig config = rawUserData.startsWith("#cloud-config") ? CloudConfig.parse(rawUserData)
                : CloudConfig.parseLaunchScript(rawUserData);
        if (!login.publicKeyLine().equals(config.authorizedKey())) {
            violations.add(instanceId + ": user data authorises '" + config.authorizedKey() + "', not the workshop's login key");
        }
        int attendee = config.attendee();
        Set<String> live = liveByAttendee.computeIfAbsent(attendee, a -> new TreeSet<>());
        if (!live.isEmpty()) {
            violations.add("attendee " + attendee + " got " + instanceId + " while " + live + " still lives");
        }
        live.add(instanceId);
        attendeeOf.put(instanceId, attendee);
        String address = nextAddress();
        latestByAttendee.put(attendee, instanceId);
        SshKeyPair hostKey = impostors.contains(attendee) ? SshKeyPair.generate("impostor") : config.hostKey();
        Long cutAfter = uploadCuts.get(attendee);
        String sshdAddress = cutAfter == null ? address : nextAddress();
        if (cutAfter != null) {
            relays.put(instanceId, new CuttingRelay(new java.net.InetSocketAddress(address, port),
                    new java.net.InetSocketAddress(sshdAddress, port), cutAfter, cuts));
        }
        boolean launchScript = !rawUserData.startsWith("#cloud-config");
        if (launchScript && !launchScriptTime.isZero()) {
            Path imageDir = dir.resolve(instanceId).resolve("image-sshd");
            imageSshds.put(instanceId, org.workshopfleet.ssh.LoopbackSshd.start(imageDir, SshKeyPair.generate("image-login"),
                    Map.of(), SshKeyPair.generate("image-host"), sshdAddress, port));
            imageSshdLogs.put(instanceId, imageDir.resolve("sshd.log"));
            long millis = launchScriptTime.toMillis();
            Thread script = new Thread(() -> {
                try {
                    Thread.sleep(millis);
                } catch (InterruptedException e) {
                    return;
                }
                launchScriptRan(instanceId, attendee, hostKey, sshdAddress);
            }, "launch-script-" + instanceId);
            script.setDaemon(true);
            script.start();
        } else {
            startMachine(instanceId, attendee, hostKey, sshdAddress);
        }
        booted++;
        return address;
    }

    /** The launch script's end: sshd restarts with the pinned host key (unless the instance was terminated meanwhile). */
    private synchronized void launchScriptRan(String instanceId, int attendee, SshKeyPair hostKey, String sshdAddress) {
        org.workshopfleet.ssh.LoopbackSshd image = imageSshds.remove(instanceId);
        if (image == null) {
            return; // terminated
        }
        image.close();
        startMachine(instanceId, attendee, hostKey, sshdAddress);
    }

    private void startMachine(String instanceId, int attendee, SshKeyPair hostKey, String sshdAddress) {
        try {
            boxes.put(instanceId, TestMachines.start(dir.resolve(instanceId), login, "done", hostKey, sshdAddress, port));
            boxByAttendee.put(attendee, instanceId);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String nextAddress() {
        int n = NEXT_ADDRESS.getAndIncrement() % 60_000;
        return "127.1." + (n / 250) + "." + (n % 250 + 1);
    }

    /**
     * An image keeps what the builder's seal keeps of the state folder (the step markers of the image steps), so a
     * machine booted from it skips those steps, as on a cloud.
     */
    @Override
    public synchronized void capture(String instanceId, String imageId) {
        TestMachines.Box box = boxes.get(instanceId);
        if (box == null) {
            throw new IllegalStateException("no running machine behind " + instanceId + " to capture");
        }
        copyTree(box.state(), dir.resolve("images").resolve(imageId));
    }

    @Override
    public synchronized String bootFromImage(String instanceId, String imageId, String rawUserData) {
        Path image = dir.resolve("images").resolve(imageId);
        if (!java.nio.file.Files.isDirectory(image)) {
            throw new IllegalStateException("image " + imageId + " was never captured here");
        }
        copyTree(image, dir.resolve(instanceId).resolve("var-lib").resolve("workshop-fleet"));
        bootedFrom.put(instanceId, imageId);
        return boot(instanceId, rawUserData);
    }

    /** The image the latest instance of this attendee booted from, or null for the stock image. */
    public synchronized String imageOf(int attendee) {
        String id = latestByAttendee.get(attendee);
        return id == null ? null : bootedFrom.get(id);
    }

    private final Map<String, String> bootedFrom = new HashMap<>();

    private static void copyTree(Path from, Path to) {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(from)) {
            for (Path p : files.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (java.nio.file.Files.isDirectory(p)) {
                    java.nio.file.Files.createDirectories(target);
                } else {
                    java.nio.file.Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized void terminate(String instanceId) {
        CuttingRelay relay = relays.remove(instanceId);
        if (relay != null) {
            relay.close();
        }
        TestMachines.Box box = boxes.remove(instanceId);
        if (box != null) {
            box.sshd().close();
        }
        org.workshopfleet.ssh.LoopbackSshd image = imageSshds.remove(instanceId);
        if (image != null) {
            image.close();
        }
        Integer attendee = attendeeOf.get(instanceId);
        if (attendee != null) {
            liveByAttendee.get(attendee).remove(instanceId);
        }
    }

    public synchronized TestMachines.Box box(String instanceId) {
        return boxes.get(instanceId);
    }

    /** Instances of this attendee booted and not terminated. */
    public synchronized int liveInstances(int attendee) {
        return liveByAttendee.getOrDefault(attendee, Set.of()).size();
    }

    public synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    public synchronized int booted() {
        return booted;
    }

    /**
     * Waits (up to {@code timeout}) until no machine runs: the fake calls {@link #terminate} asynchronously, after
     * answering TerminateInstances. Returns how many still run.
     */
    public int awaitNoneLive(java.time.Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (live() > 0 && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        return live();
    }

    /** Machines still running (not terminated through the cloud). */
    public synchronized int live() {
        return boxes.size() + imageSshds.size();
    }

    @Override
    public synchronized void close() {
        relays.values().forEach(CuttingRelay::close);
        relays.clear();
        boxes.values().forEach(b -> b.sshd().close());
        boxes.clear();
        imageSshds.values().forEach(org.workshopfleet.ssh.LoopbackSshd::close);
        imageSshds.clear();
    }

    /** The parts of a cloud-config this stand-in acts on. */
    record CloudConfig(int attendee, SshKeyPair hostKey, String authorizedKey) {
        static CloudConfig parse(String raw) {
            String[] lines = raw.split("\n");
            String hostname = null;
            String authorized = null;
            StringBuilder key = new StringBuilder();
            for (int i = 0; i < lines.length; i++) {
                String l = lines[i];
                if (l.startsWith("hostname: ")) {
                    hostname = l.substring("hostname: ".length()).trim();
                } else if (l.trim().equals("ed25519_private: |")) {
                    for (i++; i < lines.length && lines[i].startsWith("    "); i++) {
                        key.append(lines[i].substring(4)).append('\n');
                    }
                    i--;
                } else if (l.equals("ssh_authorized_keys:") && i + 1 < lines.length) {
                    authorized = lines[i + 1].replaceFirst("^\\s*-\\s*", "").trim();
                }
            }
            if (hostname == null || key.length() == 0) {
                throw new IllegalArgumentException("user data without hostname or ed25519 host key");
            }
            // An image's builder is <workshop>-bake.
            int attendee = hostname.endsWith("-bake") ? org.workshopfleet.bake.ImageBaker.BUILDER_ATTENDEE
                    : Integer.parseInt(hostname.substring(hostname.lastIndexOf('-') + 1));
            return new CloudConfig(attendee, SshKeyPair.parsePrivateKey(key.toString()), authorized);
        }

        /**
         * The same parts from a Lightsail launch script ({@code templates/cloud-init/launch-script.sh.ftl}): the host
         * key written by the {@code WORKSHOP_FLEET_KEY} here-document, the key {@code grep -qxF}'d into
         * authorized_keys, and the name given to {@code hostnamectl set-hostname} — what the script would install.
         */
        static CloudConfig parseLaunchScript(String raw) {
            String[] lines = raw.split("\n");
            String hostname = null;
            String authorized = null;
            StringBuilder key = new StringBuilder();
            for (int i = 0; i < lines.length; i++) {
                String l = lines[i];
                if (l.startsWith("hostnamectl set-hostname '")) {
                    hostname = l.substring("hostnamectl set-hostname '".length(), l.lastIndexOf('\''));
                } else if (l.startsWith("cat > /etc/ssh/ssh_host_ed25519_key <<'WORKSHOP_FLEET_KEY'")) {
                    for (i++; i < lines.length && !lines[i].equals("WORKSHOP_FLEET_KEY"); i++) {
                        key.append(lines[i]).append('\n');
                    }
                } else if (l.startsWith("grep -qxF '") && authorized == null) {
                    authorized = l.substring("grep -qxF '".length(), l.indexOf('\'', "grep -qxF '".length()));
                }
            }
            if (hostname == null || key.length() == 0) {
                throw new IllegalArgumentException("launch script without hostname or ed25519 host key");
            }
            int attendee = Integer.parseInt(hostname.substring(hostname.lastIndexOf('-') + 1));
            return new CloudConfig(attendee, SshKeyPair.parsePrivateKey(key.toString()), authorized);
        }
    }
}
