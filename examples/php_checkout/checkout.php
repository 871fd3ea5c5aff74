<?php
// Instruments one checkout through libjourney's C API (PHP FFI).
//
//   php -d ffi.enable=1 checkout.php --endpoint=http://127.0.0.1:9000/ [--lib=path/to/libjourney.so]
//
// The library is found from --lib, else $JOURNEY_LIB, else libjourney.so.0.
// Exit status: 0 when every event was tracked and delivered, 1 when not, 2 on
// bad usage or configuration.
declare(strict_types=1);

final class JourneyException extends RuntimeException {}

/** A journey_tracker handle. */
final class JourneyTracker
{
    private const ERR_LEN = 4096;
    private const CDEF = <<<'C'
typedef struct journey_tracker journey_tracker;
journey_tracker *journey_tracker_new(const char *config_json, char *err, size_t err_len);
int journey_track_json(journey_tracker *t, const char *event_json, char *err, size_t err_len);
int journey_track_durable_json(journey_tracker *t, const char *event_json, char *err, size_t err_len);
int journey_flush(journey_tracker *t, int timeout_ms);
int journey_shutdown(journey_tracker *t, int timeout_ms);
void journey_tracker_free(journey_tracker *t);
const char *journey_version(void);
C;

    private FFI $ffi;
    private ?FFI\CData $handle;

    public function __construct(string $libPath, array $config)
    {
        $this->ffi = FFI::cdef(self::CDEF, $libPath);
        $err = $this->ffi->new('char[' . self::ERR_LEN . ']');
        $handle = $this->ffi->journey_tracker_new(self::json($config), $err, self::ERR_LEN);
        if ($handle === null || FFI::isNull($handle)) { // FFI returns a NULL pointer as null
            throw new JourneyException(FFI::string($err), -6);
        }
        $this->handle = $handle;
    }

    public function version(): string
    {
        return $this->ffi->journey_version();
    }

    /** Queues the event without waiting for I/O; throws JourneyException when rejected. */
    public function track(array $event): void
    {
        $this->call('journey_track_json', $event);
    }

    /** Returns once the event is committed (spool) or queued (memory). */
    public function trackDurable(array $event): void
    {
        $this->call('journey_track_durable_json', $event);
    }

    public function flush(int $timeoutMs): bool
    {
        return $this->ffi->journey_flush($this->handle, $timeoutMs) === 0;
    }

    public function close(int $timeoutMs = 5000): bool
    {
        if ($this->handle === null) {
            return true;
        }
        $ok = $this->ffi->journey_shutdown($this->handle, $timeoutMs) === 0;
        $this->ffi->journey_tracker_free($this->handle);
        $this->handle = null;
        return $ok;
    }

    public function __destruct()
    {
        $this->close();
    }

    private function call(string $fn, array $event): void
    {
        $err = $this->ffi->new('char[' . self::ERR_LEN . ']');
        $code = $this->ffi->$fn($this->handle, self::json($event), $err, self::ERR_LEN);
        if ($code !== 0) {
            throw new JourneyException(FFI::string($err), $code);
        }
    }

    private static function json(array $value): string
    {
        return json_encode($value, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION);
    }
}

/** The checkout of examples/cpp_checkout. @return list<array{string, array}> [method, event] in funnel order */
function checkout_events(string $anonymousId, string $orderId): array
{
    $cartId = "cart-$orderId";
    $checkoutId = "chk-$orderId";
    $mug = ['id' => 'mug-01', 'name' => 'Enamel mug', 'price' => 14.90, 'quantity' => 2, 'category' => 'kitchen'];
    $total = 2 * 14.90 + 4.95;
    $who = ['anonymous_id' => $anonymousId, 'context' => ['library' => ['name' => 'journey-php-example']]];
    return [
        ['track', $who + ['type' => 'view', 'channel' => ['source' => 'newsletter', 'medium' => 'email'],
            'properties' => ['product' => $mug, 'currency' => 'EUR']]],
        ['track', $who + ['type' => 'add_to_cart',
            'properties' => ['product' => $mug, 'cart_id' => $cartId, 'currency' => 'EUR']]],
        ['track', $who + ['type' => 'checkout',
            'properties' => ['checkout_id' => $checkoutId, 'cart_id' => $cartId, 'value' => $total,
                'currency' => 'EUR', 'items' => [$mug], 'step' => 1]]],
        // Money events must not be lost: wait until they are committed.
        ['trackDurable', $who + ['type' => 'payment',
            'properties' => ['order_id' => $orderId, 'checkout_id' => $checkoutId,
                'value' => $total, 'currency' => 'EUR', 'method' => 'card']]],
        ['trackDurable', $who + ['type' => 'purchase',
            'properties' => ['order_id' => $orderId, 'checkout_id' => $checkoutId, 'cart_id' => $cartId,
                'value' => $total, 'currency' => 'EUR', 'shipping' => 4.95, 'items' => [$mug]]]],
    ];
}

function main(): int
{
    $opts = getopt('', ['endpoint:', 'lib:', 'order-id:', 'anonymous-id:', 'spool:', 'timeout-ms:']);
    if (!isset($opts['endpoint'])) {
        fwrite(STDERR, "usage: php checkout.php --endpoint=URL [--lib=PATH] [--order-id=ID] [--anonymous-id=ID] [--spool=FILE]\n");
        return 2;
    }
    $lib = $opts['lib'] ?? (getenv('JOURNEY_LIB') ?: 'libjourney.so.0');
    $orderId = $opts['order-id'] ?? 'ord-' . bin2hex(random_bytes(6));
    $anonymousId = $opts['anonymous-id'] ?? 'anon-' . bin2hex(random_bytes(6));
    $timeout = (string)($opts['timeout-ms'] ?? '10000');
    if (!ctype_digit($timeout)) {
        fwrite(STDERR, "checkout.php: --timeout-ms: must be a whole number of milliseconds, got \"$timeout\"\n");
        return 2;
    }
    $timeoutMs = (int)$timeout;

    $config = ['endpoint' => $opts['endpoint'], 'flush_interval_ms' => 100];
    if (isset($opts['spool'])) {
        $config['spool_path'] = $opts['spool'];
    }
    try {
        $tracker = new JourneyTracker($lib, $config);
    } catch (JourneyException | FFI\Exception $e) {
        fwrite(STDERR, 'checkout.php: ' . $e->getMessage() . "\n");
        return 2;
    }
    $rejected = 0;
    foreach (checkout_events($anonymousId, $orderId) as [$method, $event]) {
        try {
            $tracker->$method($event);
        } catch (JourneyException $e) { // a tracking problem never breaks the checkout
            fwrite(STDERR, "checkout.php: {$event['type']} not tracked: {$e->getMessage()} (code {$e->getCode()})\n");
            $rejected++;
        }
    }
    $delivered = $tracker->flush($timeoutMs);
    $tracker->close($delivered ? $timeoutMs : 0); // undelivered events stay spooled
    printf("order %s: %s (journey %s)\n", $orderId, $delivered ? 'delivered' : 'NOT delivered', $tracker->version());
    return $delivered && $rejected === 0 ? 0 : 1;
}

exit(main());
