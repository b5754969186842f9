#!/usr/bin/perl
# Usage: perl hold-ndsctl-lock.pl LOCK_FILE READY_FILE OWNER_PID
#
# Takes the lock every ndsctl takes before it talks to OpenNDS (lockf on ndsctl.lock: a POSIX write
# lock on the whole file), creates READY_FILE once it holds it, and keeps it until it is killed,
# its parent exits (the lab may run it under a subshell, and kill that), or OWNER_PID (the lab
# script, which such a subshell outlives) exits. Meanwhile every ndsctl exits 4 at once ("ndsctl
# thread is busy") without reaching OpenNDS, as when another caller holds it.
#
# OpenNDS deletes ndsctl.lock as it starts (conf.c), and the next ndsctl creates a new one. So the
# holder watches the path, and locks whatever file is there now, within 20 ms; OpenNDS answers
# ndsctl only seconds after that deletion.
use strict;
use warnings;
use Fcntl qw(F_SETLKW F_WRLCK SEEK_SET);

my ($lock_file, $ready_file, $owner) = @ARGV;
die "usage: hold-ndsctl-lock.pl LOCK_FILE READY_FILE OWNER_PID\n"
  unless defined $owner && $owner =~ /^[1-9][0-9]*$/;

# struct flock on Linux x86_64 and aarch64: l_type, l_whence, l_start, l_len (0: to the end), l_pid.
my $whole_file = pack('s s x4 q q l x4', F_WRLCK, SEEK_SET, 0, 0, 0);
my ($lock, $locked_inode);
sub take_lock {
  close($lock) if defined $lock;
  open($lock, '>>', $lock_file) or die "open $lock_file: $!\n";
  fcntl($lock, F_SETLKW, $whole_file) or die "lock $lock_file: $!\n";
  $locked_inode = (stat($lock))[1];
}

take_lock();
open(my $ready, '>', $ready_file) or die "create $ready_file: $!\n";
close($ready);
my $parent = getppid();
while (getppid() == $parent && kill(0, $owner)) {
  # An unlinked file has no links left; a new one may reuse the old one's inode number.
  my $links = (stat($lock))[3];
  my @now_there = stat($lock_file);
  take_lock() if $links == 0 || !@now_there || $now_there[1] != $locked_inode;
  select(undef, undef, undef, 0.02);
}
