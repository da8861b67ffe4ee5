#!/usr/bin/perl
# Time Sisimai (the Debian package libsisimai-perl) over messages held in memory:
# one process, the files read before the clock starts, the best of REPEAT runs,
# timed in CPU seconds (one core, not disturbed by other processes) and wall seconds.
# Usage: perl bench/sisimai_speed.pl REPEAT FILE...   Prints one JSON line.
use strict;
use warnings;
use Sisimai;
use Time::HiRes qw(time clock_gettime CLOCK_PROCESS_CPUTIME_ID);

my $repeat = shift @ARGV;
my @mails;
for my $path (@ARGV) {
    open(my $fh, '<:raw', $path) or die "$path: $!";
    local $/;
    push @mails, scalar <$fh>;
    close $fh;
}

my ($best_cpu, $best_wall, $records) = (undef, undef, 0);
for (1 .. $repeat) {
    my $found = 0;
    my $cpu = clock_gettime(CLOCK_PROCESS_CPUTIME_ID);
    my $wall = time;
    for my $mail (@mails) {
        my $list = Sisimai->make(\$mail, 'delivered' => 1);
        $found += scalar @$list if $list;
    }
    $cpu = clock_gettime(CLOCK_PROCESS_CPUTIME_ID) - $cpu;
    $wall = time - $wall;
    $best_cpu = $cpu if !defined $best_cpu || $cpu < $best_cpu;
    $best_wall = $wall if !defined $best_wall || $wall < $best_wall;
    $records = $found;
}
printf "{\"cpu\": %.6f, \"wall\": %.6f, \"messages\": %d, \"records\": %d, \"version\": \"%s\"}\n",
    $best_cpu, $best_wall, scalar @mails, $records, Sisimai->version;
