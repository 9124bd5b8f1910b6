/* The pcap writer: a file that libpcap reads back, and a FIFO nobody reads
 * that never blocks and counts drops. */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../services/switchd/pcap.h"
#include "tap.h"

int main(void)
{
    char dir[] = "/tmp/sw_pcap.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[256], fifo[256];
    snprintf(path, sizeof(path), "%s/a.pcap", dir);
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);

    unsigned char frame[1514];
    for (size_t i = 0; i < sizeof(frame); i++)
        frame[i] = (unsigned char)i;
    sw_pcap_t *p = sw_pcap_open(path, 0);
    ok(p != NULL, "open a file");
    ok(sw_pcap_write(p, 1700000000123456789ull, frame, 60) == 0, "write a 60-byte frame");
    ok(sw_pcap_write(p, 1700000001000000000ull, frame, 1514) == 0, "write a 1514-byte frame");
    ok(sw_pcap_flush(p) == 0, "flush empties the buffer");
    ok(sw_pcap_frames(p) == 2 && sw_pcap_bytes(p) == 1574 && sw_pcap_drops(p) == 0, "counters");
    sw_pcap_destroy(&p);
    ok(p == NULL, "destroy clears the pointer");

    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    ok(pc != NULL, "libpcap opens it (%s)", pc ? "ok" : err);
    if (pc) {
        ok(pcap_datalink(pc) == DLT_EN10MB, "linktype is Ethernet");
        struct pcap_pkthdr *h;
        const u_char *d;
        ok(pcap_next_ex(pc, &h, &d) == 1 && h->caplen == 60 && h->ts.tv_sec == 1700000000 &&
           h->ts.tv_usec == 123456 && memcmp(d, frame, 60) == 0, "first record read back");
        ok(pcap_next_ex(pc, &h, &d) == 1 && h->len == 1514 && memcmp(d, frame, 1514) == 0,
           "second record read back");
        ok(pcap_next_ex(pc, &h, &d) == -2, "then end of file");
        pcap_close(pc);
    }

    ok(mkfifo(fifo, 0600) == 0, "make a FIFO");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    p = sw_pcap_open(fifo, 256 * 1024);
    ok(p != NULL, "open a FIFO with no reader does not block");
    unsigned drops = 0;
    for (int i = 0; i < 20000; i++)
        if (sw_pcap_write(p, 0, frame, 1514) == -ENOBUFS)
            drops++;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    ok(drops > 0 && sw_pcap_drops(p) == drops, "unread FIFO: frames dropped and counted (%u)", drops);
    ok(sw_pcap_frames(p) + drops == 20000, "every frame either queued or dropped");
    ok(ms < 5000, "20000 writes never blocked (%.0f ms)", ms);
    ok(sw_pcap_flush(p) == -EAGAIN, "flush reports bytes still pending");

    /* A reader appears: what was queued drains and reads as pcap. */
    int rfd = open(fifo, O_RDONLY | O_NONBLOCK);
    ok(rfd >= 0, "reader opens the FIFO");
    char hdr[24];
    ok(read(rfd, hdr, 24) == 24 && memcmp(hdr, "\xd4\xc3\xb2\xa1", 4) == 0, "reader gets the pcap header first");
    close(rfd);
    sw_pcap_destroy(&p);
    unlink(fifo);
    unlink(path);
    rmdir(dir);
    return done();
}
